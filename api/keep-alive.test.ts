import { Agent, type IncomingHttpHeaders, request } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Messages } from '../shared/errors.js'
import {
  createTestContext,
  fixtures,
  type ListeningApp,
  listenOnSocket,
  TEST_API_KEY,
  type TestContext,
} from './test-support.js'

/**
 * Errors answered before the request body was read must not break a keep-alive client: the answer
 * says `Connection: close`, Node closes the socket, and the client's next request goes out on a
 * fresh connection instead of one the server is about to destroy. Real server, real sockets.
 */

let t: TestContext
let server: ListeningApp
let port: number

const ANON_MAX = 3

beforeAll(async () => {
  t = await createTestContext({ env: { RATE_LIMIT_ANON_MAX: String(ANON_MAX) } })
  server = await listenOnSocket(t.app)
  port = server.port
})
afterAll(async () => {
  await server.close()
  await t.close()
})

const BOUNDARY = 'keepalive-boundary'

const multipart = (field: string, content: Uint8Array) =>
  Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="f"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ])

const padded = (head: Uint8Array, size: number) => {
  const out = new Uint8Array(size)
  out.set(head)
  return out
}

interface Rejection {
  method: string
  path: string
  headers: Record<string, string>
  body: Buffer
  /** Sent as chunked transfer encoding, in 64 KiB pieces. */
  chunked?: boolean
  status: number
  error?: string
}

const upload = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'x-api-key': TEST_API_KEY }
const json = { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY }
const bigJson = Buffer.from(JSON.stringify({ sessionId: 'a', sessionName: 'x'.repeat(2 * 1024 * 1024) }))
const oversizeUpload = multipart('image', padded(fixtures.png, 3 * 1024 * 1024))

const REJECTIONS: Record<string, Rejection> = {
  '413 from Content-Length': {
    method: 'POST',
    path: '/api/upload-image',
    headers: upload,
    body: oversizeUpload,
    status: 413,
    error: Messages.fileTooLarge,
  },
  '413 while streaming a chunked upload': {
    method: 'POST',
    path: '/api/upload-image',
    headers: upload,
    body: oversizeUpload,
    chunked: true,
    status: 413,
    error: Messages.fileTooLarge,
  },
  '413 for JSON over 1 MB': {
    method: 'POST',
    path: '/api/sessions',
    headers: json,
    body: bigJson,
    status: 413,
  },
  '413 for chunked JSON over 1 MB': {
    method: 'POST',
    path: '/api/sessions',
    headers: json,
    body: bigJson,
    chunked: true,
    status: 413,
  },
  '415 for an upload that is no image': {
    method: 'POST',
    path: '/api/upload-image',
    headers: upload,
    body: multipart('image', new Uint8Array(900 * 1024).fill(0x41)),
    status: 415,
    error: Messages.onlyMedia,
  },
  '401 for an upload without the key': {
    method: 'POST',
    path: '/api/upload-image',
    headers: { 'content-type': upload['content-type'] },
    body: multipart('image', padded(fixtures.png, 900 * 1024)),
    // The anonymous bucket is small here: from the fourth time on the answer is 429.
    status: 401,
    error: Messages.unauthorized,
  },
  '429 once the anonymous budget is used up': {
    method: 'POST',
    path: '/api/upload-image',
    headers: { 'content-type': upload['content-type'], 'x-api-key': 'a-wrong-key-of-some-length' },
    body: multipart('image', padded(fixtures.png, 900 * 1024)),
    status: 429,
    error: Messages.rateLimited,
  },
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
  reusedSocket: boolean
}

const send = (
  agent: Agent,
  options: {
    method: string
    path: string
    headers?: Record<string, string>
    body?: Buffer
    chunked?: boolean
  },
) =>
  new Promise<Answer>((resolve, reject) => {
    const headers = { ...options.headers }
    if (options.body && !options.chunked) headers['content-length'] = String(options.body.byteLength)
    const req = request(
      { host: '127.0.0.1', port, method: options.method, path: options.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reusedSocket: req.reusedSocket,
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    if (!options.body) return req.end()
    if (!options.chunked) return req.end(options.body)
    // A chunked client streams as it goes: it may still be writing when the answer arrives.
    const write = (offset: number) => {
      if (offset >= options.body!.byteLength) return req.end()
      const ok = req.write(options.body!.subarray(offset, offset + 64 * 1024))
      if (ok) setImmediate(() => write(offset + 64 * 1024))
      else req.once('drain', () => write(offset + 64 * 1024))
    }
    write(0)
  })

const nextRequest = { method: 'GET', path: '/api/sessions', headers: { 'x-api-key': TEST_API_KEY } }

describe('keep-alive after an early rejection', () => {
  it.each(Object.keys(REJECTIONS))('the next request succeeds after a %s, 5 of 5 times', async (name) => {
    const rejection = REJECTIONS[name]!
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      // A warm connection first, so the rejection itself goes out on a kept-alive socket.
      expect((await send(agent, nextRequest)).status).toBe(200)
      for (let round = 0; round < 5; round++) {
        if (name.startsWith('429')) {
          // Use up the anonymous budget with cheap requests; the keyed bucket is separate.
          for (let i = 0; i < ANON_MAX; i++) await send(agent, { method: 'GET', path: '/api/stats' })
        }
        const rejected = await send(agent, rejection)
        const expectedStatus = name.startsWith('401') && round > 0 ? [401, 429] : [rejection.status]
        expect(expectedStatus, name).toContain(rejected.status)
        if (rejection.error && rejected.status === rejection.status) {
          expect(JSON.parse(rejected.body)).toEqual({ success: false, error: rejection.error })
        }
        expect(rejected.headers.connection, name).toBe('close')
        const started = Date.now()
        const next = await send(agent, nextRequest)
        expect(next.status, `${name}, round ${round + 1}`).toBe(200)
        expect(next.reusedSocket, 'the closed socket is not reused').toBe(false)
        expect(Date.now() - started).toBeLessThan(200)
        // The agent keeps reusing healthy connections.
        expect((await send(agent, nextRequest)).reusedSocket).toBe(true)
      }
    } finally {
      agent.destroy()
    }
  })

  it('fetch (undici) opens a fresh connection after such a rejection too', async () => {
    for (let round = 0; round < 5; round++) {
      const rejected = await fetch(`http://127.0.0.1:${port}/api/upload-image`, {
        method: 'POST',
        headers: upload,
        body: oversizeUpload,
      })
      expect(rejected.status).toBe(413)
      expect(rejected.headers.get('connection')).toBe('close')
      await rejected.arrayBuffer()
      const next = await fetch(`http://127.0.0.1:${port}/api/sessions`, {
        headers: { 'x-api-key': TEST_API_KEY },
      })
      expect(next.status).toBe(200)
      await next.arrayBuffer()
    }
  })

  it('closes the socket itself after such an answer, even for a client that asked to keep it', async () => {
    const socket = connect({ host: '127.0.0.1', port })
    const received: Buffer[] = []
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    const closedByServer = new Promise<boolean>((resolve) => {
      socket.once('end', () => resolve(true))
      setTimeout(() => resolve(false), 2_000)
    })
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(
      [
        'POST /api/upload-image HTTP/1.1',
        'Host: 127.0.0.1',
        'Connection: keep-alive',
        `x-api-key: ${TEST_API_KEY}`,
        `Content-Type: ${upload['content-type']}`,
        `Content-Length: ${oversizeUpload.byteLength}`,
        '',
        '',
      ].join('\r\n'),
    )
    socket.write(oversizeUpload)
    try {
      expect(await closedByServer).toBe(true)
      const head = Buffer.concat(received).toString('latin1').split('\r\n\r\n')[0] ?? ''
      expect(head).toMatch(/^HTTP\/1\.1 413 /)
      expect(head).toMatch(/\r\nconnection: close\r\n/i)
    } finally {
      socket.destroy()
    }
  })

  it('keeps the connection open for errors to requests without a body', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      expect((await send(agent, nextRequest)).status).toBe(200)
      const missing = await send(agent, {
        method: 'GET',
        path: '/api/sessions/nobody/qr-code',
        headers: nextRequest.headers,
      })
      expect(missing.status).toBe(404)
      expect(missing.headers.connection).toBe('keep-alive')
      expect((await send(agent, nextRequest)).reusedSocket).toBe(true)
    } finally {
      agent.destroy()
    }
  })
})
