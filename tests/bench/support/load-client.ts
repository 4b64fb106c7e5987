/**
 * A bounded keep-alive load loop, run as its own process so it does not share the server's core:
 *
 *   node --import tsx tests/bench/support/load-client.ts <json options>
 *
 * `concurrency` connections each send one GET, read the whole answer, and send the next. It speaks
 * HTTP/1.1 on raw sockets with a precomputed request and reads only the framing (Content-Length or
 * chunked): node:http's client costs more per request than the servers being measured, and would
 * cap the bare server's figure. Answers finishing during `warmupMs` are not counted. Prints one JSON
 * line.
 */
import { connect, type Socket } from 'node:net'

export interface LoadOptions {
  url: string
  headers?: Record<string, string>
  concurrency: number
  warmupMs: number
  durationMs: number
}

export interface LoadResult {
  /** Requests answered 2xx inside the measured window. */
  ok: number
  /** Other statuses and transport errors inside the measured window. */
  failed: number
  seconds: number
  requestsPerSecond: number
}

const HEADER_END = Buffer.from('\r\n\r\n')
const CHUNKED_END = Buffer.from('0\r\n\r\n')

/** Where the response starting at `buffer[0]` ends, and its status; null while incomplete. */
export const parseResponse = (buffer: Buffer): { status: number; length: number } | null => {
  const headerEnd = buffer.indexOf(HEADER_END)
  if (headerEnd < 0) return null
  const head = buffer.toString('latin1', 0, headerEnd)
  const status = Number(head.slice(9, 12))
  const bodyStart = headerEnd + HEADER_END.length
  const contentLength = /\r\ncontent-length:\s*(\d+)/i.exec(head)
  if (contentLength) {
    const length = bodyStart + Number(contentLength[1])
    return buffer.length >= length ? { status, length } : null
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const end = buffer.indexOf(CHUNKED_END, bodyStart)
    return end < 0 ? null : { status, length: end + CHUNKED_END.length }
  }
  return { status, length: bodyStart }
}

const run = async (options: LoadOptions): Promise<LoadResult> => {
  const target = new URL(options.url)
  const headerLines = Object.entries({ host: target.host, ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  const requestBytes = Buffer.from(`GET ${target.pathname}${target.search} HTTP/1.1\r\n${headerLines}\r\n`)

  const startedAt = performance.now()
  const measureFrom = startedAt + options.warmupMs
  const stopAt = measureFrom + options.durationMs
  let ok = 0
  let failed = 0
  const count = (good: boolean) => {
    if (performance.now() < measureFrom) return
    if (good) ok++
    else failed++
  }

  const connection = () =>
    new Promise<void>((resolve) => {
      const socket: Socket = connect(Number(target.port), target.hostname)
      socket.setNoDelay(true)
      let pending: Buffer = Buffer.alloc(0)
      const finish = () => {
        socket.destroy()
        resolve()
      }
      socket.on('connect', () => socket.write(requestBytes))
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
        const response = parseResponse(pending)
        if (!response) return
        pending = pending.subarray(response.length)
        count(response.status >= 200 && response.status < 300)
        if (performance.now() < stopAt) socket.write(requestBytes)
        else finish()
      })
      socket.on('error', () => {
        count(false)
        finish()
      })
      socket.on('close', () => resolve())
    })

  await Promise.all(Array.from({ length: options.concurrency }, connection))
  const seconds = (performance.now() - measureFrom) / 1000
  return { ok, failed, seconds, requestsPerSecond: ok / seconds }
}

if (process.argv[2]) {
  const result = await run(JSON.parse(process.argv[2]) as LoadOptions)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
