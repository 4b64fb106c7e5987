import { createHash } from 'node:crypto'
import type { Server } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config.js'
import { applyHttpGuards, httpServerOptions } from './http-guards.js'

/**
 * The guards on a real listening server, probed with raw sockets so each slow-client pattern is sent
 * exactly. Timeouts are small; every wait is bounded.
 */
const HEADERS_MS = 500
const KEEP_ALIVE_MS = 500
const STALL_MS = 500
/** Generous for a loaded 2-core machine: a guard that works closes well inside it. */
const MARGIN_MS = 1500

/** Bytes in the body, or null when the client went away (closed by a guard) before it ended. */
const countBody = async (body: ReadableStream<Uint8Array> | null) => {
  let bytes = 0
  const reader = body?.getReader()
  try {
    for (;;) {
      const next = await reader?.read()
      if (!next || next.done) return bytes
      bytes += next.value.byteLength
    }
  } catch {
    return null
  }
}

const app = new Hono()
app.get('/ok', (c) => c.text('ok'))
app.post('/upload', async (c) => c.json({ bytes: await countBody(c.req.raw.body) }))
// Reads nothing for a while, then everything: the server, not the client, is slow here.
app.post('/late-reader', async (c) => {
  await new Promise((resolve) => setTimeout(resolve, STALL_MS * 3))
  return c.json({ bytes: await countBody(c.req.raw.body) })
})

let server: Server | null = null
const sockets: Socket[] = []
const timers: NodeJS.Timeout[] = []

const start = async (env: Record<string, string> = {}) => {
  const config = loadConfig({
    HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    HTTP_REQUEST_TIMEOUT_MS: '20000',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
    HTTP_BODY_STALL_MS: String(STALL_MS),
    HTTP_BODY_MIN_BYTES: '1024',
    HTTP_MAX_CONNECTIONS_PER_IP: '0',
    ...env,
  })
  const s = await new Promise<Server>((resolve) => {
    const created = serve(
      { fetch: app.fetch, hostname: '127.0.0.1', port: 0, serverOptions: httpServerOptions(config) },
      () => resolve(created as Server),
    )
  })
  applyHttpGuards(s, config)
  server = s
  return (s.address() as AddressInfo).port
}

afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t)
  for (const socket of sockets.splice(0)) socket.destroy()
  const s = server
  server = null
  if (s) {
    const closed = new Promise((resolve) => s.close(resolve))
    s.closeAllConnections()
    await closed
  }
})

interface Probe {
  socket: Socket
  /** Everything received so far. */
  received(): string
  /** ms from the probe's start to the close, or rejects after `within` ms while still open. */
  closed(within: number): Promise<number>
  /** Resolves once `text` has been received (bounded). */
  receivedText(text: string, within?: number): Promise<void>
}

const probe = (port: number): Promise<Probe> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    sockets.push(socket)
    const startedAt = Date.now()
    let data = ''
    let closedAt: number | null = null
    const waiters: (() => void)[] = []
    const notify = () => {
      for (const w of waiters.splice(0)) w()
    }
    socket.on('data', (d) => {
      data += d
      notify()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      closedAt = Date.now()
      notify()
    })
    const until = (done: () => boolean, within: number, what: string) =>
      new Promise<void>((ok, fail) => {
        const check = () => {
          if (done()) {
            clearTimeout(timeout)
            ok()
          } else waiters.push(check)
        }
        const timeout = setTimeout(() => fail(new Error(`${what} not within ${within} ms`)), within)
        check()
      })
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed: async (within) => {
          await until(() => closedAt !== null, within, 'socket closed')
          return (closedAt ?? 0) - startedAt
        },
        receivedText: (text, within = 3000) => until(() => data.includes(text), within, `"${text}" received`),
      }),
    )
    socket.once('error', reject)
  })

/** Writes `chunk` every `everyMs` until stopped or the socket closes. */
const trickle = (socket: Socket, chunk: string | Buffer, everyMs: number, times = Number.POSITIVE_INFINITY) =>
  new Promise<void>((resolve) => {
    let sent = 0
    const timer = setInterval(() => {
      if (socket.destroyed || sent >= times) {
        clearInterval(timer)
        resolve()
        return
      }
      socket.write(chunk)
      sent++
    }, everyMs)
    timers.push(timer)
  })

const expectClosedAround = async (p: Probe, timeoutMs: number) => {
  const elapsed = await p.closed(timeoutMs + MARGIN_MS)
  // Not earlier than the limit allows (a little slack for timer granularity).
  expect(elapsed).toBeGreaterThanOrEqual(timeoutMs * 0.8)
  return elapsed
}

describe('slow clients are closed', () => {
  it('an idle TCP connection that never sends a byte, after the header timeout', async () => {
    const port = await start()
    await expectClosedAround(await probe(port), HEADERS_MS)
  })

  it('partial headers, after the header timeout (answered 408)', async () => {
    const port = await start()
    const p = await probe(port)
    p.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n')
    await expectClosedAround(p, HEADERS_MS)
    expect(p.received()).toContain('408')
  })

  it('headers trickled a byte at a time, after the header timeout although bytes keep coming', async () => {
    const port = await start()
    const p = await probe(port)
    void trickle(p.socket, 'X', 50)
    p.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    await expectClosedAround(p, HEADERS_MS)
  })

  it('a Content-Length with no body, after one stall window', async () => {
    const port = await start()
    const p = await probe(port)
    p.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n')
    await expectClosedAround(p, STALL_MS)
  })

  it('a body that stops halfway, one stall window after it stopped', async () => {
    const port = await start()
    const p = await probe(port)
    p.socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(50_000)}`)
    await expectClosedAround(p, STALL_MS)
  })

  it('a chunked upload trickled below the minimum rate', async () => {
    const port = await start()
    const p = await probe(port)
    p.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
    // 10 bytes of data every 100 ms: ~50 bytes per window, under the 1024 asked for.
    void trickle(p.socket, 'a\r\n0123456789\r\n', 100)
    await expectClosedAround(p, STALL_MS)
  })

  it('an idle keep-alive connection after a response, after the keep-alive timeout', async () => {
    const port = await start()
    const p = await probe(port)
    p.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await p.receivedText('\r\n\r\nok')
    const answeredAt = Date.now()
    // Node itself adds a second to the keep-alive timeout of an idle socket.
    await p.closed(KEEP_ALIVE_MS + 1000 + MARGIN_MS)
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(KEEP_ALIVE_MS * 0.8)
  })

  it('an upload that progresses but outlasts HTTP_REQUEST_TIMEOUT_MS', async () => {
    const port = await start({ HTTP_REQUEST_TIMEOUT_MS: '1000' })
    const p = await probe(port)
    p.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n')
    void trickle(p.socket, Buffer.alloc(4096, 1), 100)
    await expectClosedAround(p, 1000)
  })
})

describe('clients that behave are left alone', () => {
  it('a keep-alive client sending requests more often than the keep-alive timeout', async () => {
    const port = await start()
    const p = await probe(port)
    for (let i = 1; i <= 8; i++) {
      p.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
      await expect.poll(() => p.received().split('\r\n\r\nok').length - 1, { timeout: 3000 }).toBe(i)
      await new Promise((resolve) => setTimeout(resolve, KEEP_ALIVE_MS / 3))
    }
    // Two seconds and more in all, several times each timeout, and still open.
    expect(p.socket.destroyed).toBe(false)
  })

  it('a slow upload that keeps making progress, well past the stall window', async () => {
    const port = await start()
    const p = await probe(port)
    const chunk = Buffer.alloc(2048, 7)
    const chunks = 15 // 15 × 150 ms ≈ 2.3 s, ~4.5 stall windows, ~6.8 KiB per window
    p.socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${chunk.length * chunks}\r\n\r\n`)
    await trickle(p.socket, chunk, 150, chunks)
    await p.receivedText(`{"bytes":${chunk.length * chunks}}`)
    expect(p.received()).toMatch(/^HTTP\/1.1 200/)
    expect(p.socket.destroyed).toBe(false)
  })

  it('a body the server is slow to read (its back-pressure, not a stalled client)', async () => {
    const port = await start()
    const p = await probe(port)
    const size = 4 * 1024 * 1024
    p.socket.write(`POST /late-reader HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`)
    // All of it at once: the buffers fill and the client waits on the server for three windows.
    p.socket.write(Buffer.alloc(size, 1))
    await p.receivedText(`{"bytes":${size}}`, STALL_MS * 3 + 5000)
    expect(p.socket.destroyed).toBe(false)
  })

  it('an upgraded connection stays open past every timeout and counts towards the cap', async () => {
    const port = await start({ HTTP_MAX_CONNECTIONS_PER_IP: '2' })
    server!.on('upgrade', (req, socket: Socket) => {
      const accept = createHash('sha1')
        .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64')
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      )
      socket.on('data', (d) => socket.write(d)) // echo, framing aside
      socket.on('end', () => socket.end())
    })
    const p = await probe(port)
    p.socket.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    await p.receivedText('101 Switching Protocols')
    await new Promise((resolve) => setTimeout(resolve, Math.max(HEADERS_MS, KEEP_ALIVE_MS, STALL_MS) * 3))
    p.socket.write('still-here')
    await p.receivedText('still-here')

    const second = await probe(port)
    const third = await probe(port)
    await third.closed(MARGIN_MS)
    second.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await second.receivedText('\r\n\r\nok')
  })
})

describe('connections per client address', () => {
  it('refuses connection N+1 while the first N keep working, and admits again once one closes', async () => {
    const cap = 4
    const port = await start({
      HTTP_MAX_CONNECTIONS_PER_IP: String(cap),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '20000',
    })
    const open = await Promise.all(Array.from({ length: cap }, () => probe(port)))
    for (const p of open) p.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await Promise.all(open.map((p) => p.receivedText('\r\n\r\nok')))

    const refused = await probe(port)
    refused.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await refused.closed(MARGIN_MS)
    expect(refused.received()).toBe('')

    for (const p of open) p.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await Promise.all(open.map((p) => expect.poll(() => p.received().split('\r\n\r\nok').length - 1).toBe(2)))

    open[0]!.socket.destroy()
    await open[0]!.closed(MARGIN_MS)
    // The server sees the close a moment after the client does.
    await expect
      .poll(async () => {
        const next = await probe(port)
        next.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
        return next.receivedText('\r\n\r\nok', 500).then(
          () => true,
          () => false,
        )
      })
      .toBe(true)
  })
})

describe('setup', () => {
  it('refuses a server created without httpServerOptions, whose timeouts Node would check only every 30 s', async () => {
    const plain = await new Promise<Server>((resolve) => {
      const created = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
        resolve(created as Server),
      )
    })
    server = plain
    expect(() => applyHttpGuards(plain, loadConfig({}))).toThrow('httpServerOptions')
  })

  it('keeps the header timeout within the request timeout and checks often enough for both', () => {
    expect(httpServerOptions(loadConfig({}))).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 3_600_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1000,
    })
    expect(
      httpServerOptions(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '8000', HTTP_REQUEST_TIMEOUT_MS: '2000' })),
    ).toMatchObject({ headersTimeout: 2000, requestTimeout: 2000, connectionsCheckingInterval: 500 })
    expect(httpServerOptions(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0' }))).toMatchObject({
      headersTimeout: 10_000,
      requestTimeout: 0,
    })
  })
})
