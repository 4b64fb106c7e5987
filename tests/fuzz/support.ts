import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { expect, vi } from 'vitest'
import { type EmbeddedServer, startEmbedded } from '../../embedded/embedded.js'
import { loadConfig } from '../../shared/config.js'
import { createFakeSocketFactory, type FakeSocketFactory } from '../support/fake-wa-socket.js'

/**
 * The embedded product on a real port for request fuzzing: temp data folder, the stand-in WhatsApp
 * socket (it acknowledges every status at once, so sends succeed), an offline URL-media fetcher,
 * and rate limits high enough never to hide a failure behind a 429. Nothing leaves the machine.
 */

export const LINKED_SESSION = 'fuzz-linked'
export const MAX_UPLOAD_MB = 1

export interface FuzzProduct {
  server: EmbeddedServer
  port: number
  key: string
  dataDir: string
  fake: FakeSocketFactory
  stop(): Promise<void>
}

export const startFuzzProduct = async (env: Record<string, string> = {}): Promise<FuzzProduct> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wst-fuzz-'))
  const fake = createFakeSocketFactory()
  fake.onCreate((sock) => {
    const send = sock.sendMessage.bind(sock)
    sock.sendMessage = async (jid, content, options) => {
      const sent = await send(jid, content, options)
      const id = sent?.key.id
      if (id) setTimeout(() => sock.ack(id), 1)
      return sent
    }
  })
  const server = await startEmbedded({
    config: loadConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      MAX_UPLOAD_MB: String(MAX_UPLOAD_MB),
      RATE_LIMIT_MAX: '100000000',
      RATE_LIMIT_ANON_MAX: '100000000',
      ...env,
    }),
    logger: pino({ level: 'silent' }),
    connector: {
      socketFactory: fake.factory,
      backoff: { baseMs: 20, maxMs: 200, jitter: 0 },
      fetchUrlMedia: async () => ({ kind: null, bytes: null, mimetype: null }),
    },
  })
  return {
    server,
    port: server.port,
    key: server.apiKey.key,
    dataDir,
    fake,
    async stop() {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** Creates a QR session and links it through the stand-in socket, as a phone scanning the QR would. */
export const linkSession = async (product: FuzzProduct, sessionId = LINKED_SESSION) => {
  const before = product.fake.sockets.length
  const res = await fetch(`${product.server.url}/api/sessions`, {
    method: 'POST',
    headers: { 'x-api-key': product.key, 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId, sessionName: 'Fuzz', authMethod: 'qrcode' }),
  })
  expect(res.status).toBe(201)
  await vi.waitFor(() => expect(product.fake.sockets.length).toBeGreaterThan(before))
  const first = product.fake.latest()
  first.emitQr()
  first.pairSuccess({ number: '15550009999', lid: '77665544' })
  await vi.waitFor(() => expect(product.fake.sockets.length).toBeGreaterThan(before + 1))
  product.fake.latest().open()
  await vi.waitFor(async () =>
    expect((await product.server.repos.sessions.get(sessionId))?.state).toBe('open'),
  )
}

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

const decodeChunked = (raw: Buffer): Buffer => {
  const out: Buffer[] = []
  let offset = 0
  while (offset < raw.length) {
    const lineEnd = raw.indexOf('\r\n', offset)
    if (lineEnd === -1) break
    const size = Number.parseInt(raw.subarray(offset, lineEnd).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    out.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
  return Buffer.concat(out)
}

const parseResponse = (raw: Buffer): RawResponse | null => {
  const headEnd = raw.indexOf('\r\n\r\n')
  if (headEnd === -1) return null
  const [statusLine = '', ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = Number(statusLine.split(' ')[1])
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let body = raw.subarray(headEnd + 4)
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = decodeChunked(body)
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']))
  return { status, headers, body: body.toString('utf8') }
}

export interface RawExchange {
  /** Request line and headers, without the blank line. */
  head: string
  /** Written one after the other, as separate TCP writes. */
  body?: Uint8Array[]
  /** Write all of it, then destroy the socket without waiting: a client that goes away. */
  abort?: boolean
  timeoutMs?: number
}

/**
 * One request over a fresh TCP connection, with bytes exactly as given (truncated, duplicated,
 * mislabelled…), then reads until the server closes. Resolves null when no complete answer came:
 * after `abort`, or when the server closed on a client still sending (an early 413).
 */
export const rawRequest = (port: number, exchange: RawExchange): Promise<RawResponse | null> =>
  new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const received: Buffer[] = []
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve(exchange.abort ? null : parseResponse(Buffer.concat(received)))
    }
    const timer = setTimeout(finish, exchange.timeoutMs ?? 10_000)
    socket.on('data', (chunk) => received.push(chunk))
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', finish)
    socket.once('connect', async () => {
      const write = (bytes: Uint8Array | string) =>
        new Promise<void>((done) => {
          if (socket.destroyed) return done()
          socket.write(bytes, () => done())
        })
      await write(`${exchange.head}\r\n\r\n`)
      for (const part of exchange.body ?? []) await write(part)
      if (exchange.abort) finish()
    })
  })

/** Asserts a response is no server failure and, when an error, has the API's one error shape. */
export const expectWellFormed = (res: RawResponse, what: string) => {
  expect(res.status, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(500)
  expect(res.status, what).toBeGreaterThanOrEqual(200)
  if (res.status < 400) return
  let parsed: unknown
  try {
    parsed = JSON.parse(res.body)
  } catch {
    throw new Error(`${what}: error body is not JSON: ${res.body.slice(0, 200)}`)
  }
  expect(parsed, what).toEqual({ success: false, error: expect.any(String) })
  expect((parsed as { error: string }).error.length, what).toBeGreaterThan(0)
}

/** The product still answers its health check (it did not crash or wedge). */
export const expectHealthy = async (product: FuzzProduct) => {
  const res = await fetch(`${product.server.url}/api/health`)
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ success: true, data: { status: 'healthy' } })
}

/** Media files and temp files in the data folder; an aborted upload must leave none behind. */
export const mediaFiles = async (product: FuzzProduct) =>
  (await readdir(join(product.dataDir, 'media')).catch(() => [] as string[])).sort()

const encoder = new TextEncoder()
export const bytes = (text: string) => encoder.encode(text)

/** A multipart body built from parts; `raw` parts go in unchanged (for broken framing). */
export const multipartBody = (
  boundary: string,
  parts: { name: string; filename?: string; type?: string; content: Uint8Array }[],
  { close = true } = {},
): Uint8Array => {
  const pieces: Uint8Array[] = []
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`
    const type = part.type ? `Content-Type: ${part.type}\r\n` : ''
    pieces.push(
      bytes(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n${type}\r\n`),
      part.content,
      bytes('\r\n'),
    )
  }
  if (close) pieces.push(bytes(`--${boundary}--\r\n`))
  return Buffer.concat(pieces)
}

/** Chunked transfer encoding of the given pieces; `terminate: false` leaves the body unfinished. */
export const chunked = (pieces: Uint8Array[], { terminate = true } = {}): Uint8Array[] => [
  ...pieces
    .filter((piece) => piece.byteLength > 0)
    .map((piece) => Buffer.concat([bytes(`${piece.byteLength.toString(16)}\r\n`), piece, bytes('\r\n')])),
  ...(terminate ? [bytes('0\r\n\r\n')] : []),
]

/** Smallest files file-type recognises (the same bytes as the API tests use). */
export { fixtures } from '../../api/test-support.js'
