/**
 * A bounded keep-alive load loop, run as its own process so it does not share the server's core:
 *
 *   node --import tsx tests/bench/support/load-client.ts <json options>   one run, one JSON line
 *   node --import tsx tests/bench/support/load-client.ts --serve          one run per stdin line
 *
 * `concurrency` connections each send one GET, read the whole answer, and send the next. It speaks
 * HTTP/1.1 on raw sockets with a precomputed request and reads only the framing (Content-Length or
 * chunked): node:http's client costs more per request than the servers being measured, and would
 * cap the bare server's figure. Answers finishing during `warmupMs` are not counted. `--serve`
 * keeps one process (and its warmed-up JIT) for a whole bench instead of starting one per run,
 * which also keeps process start-up out of the machine's load between rounds.
 */
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'

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
  /** Latency of the answers counted, in milliseconds. */
  p50Ms: number
  p99Ms: number
  /** Size of the last answer, headers included. */
  responseBytes: number
  /** Every answer received, warm-up included: what the server did work for. */
  answered: number
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

/** Latencies in 10 µs buckets up to 10 s: constant memory and no sort, whatever the rate. */
class LatencyHistogram {
  private readonly buckets = new Uint32Array(1_000_001)
  private count = 0

  record(ms: number) {
    this.buckets[Math.min(this.buckets.length - 1, Math.round(ms * 100))]! += 1
    this.count++
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil((p / 100) * this.count))
    let seen = 0
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i] ?? 0
      if (seen >= rank) return i / 100
    }
    return Number.NaN
  }
}

export const runLoad = async (options: LoadOptions): Promise<LoadResult> => {
  const target = new URL(options.url)
  const headerLines = Object.entries({ host: target.host, ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  const requestBytes = Buffer.from(`GET ${target.pathname}${target.search} HTTP/1.1\r\n${headerLines}\r\n`)

  const startedAt = performance.now()
  const measureFrom = startedAt + options.warmupMs
  const stopAt = measureFrom + options.durationMs
  const latencies = new LatencyHistogram()
  let ok = 0
  let failed = 0
  let responseBytes = 0
  let answered = 0
  const count = (good: boolean, sentAt: number) => {
    answered++
    const now = performance.now()
    if (now < measureFrom) return
    if (good) {
      ok++
      latencies.record(now - sentAt)
    } else failed++
  }

  const connection = () =>
    new Promise<void>((resolve) => {
      const socket: Socket = connect(Number(target.port), target.hostname)
      socket.setNoDelay(true)
      let pending: Buffer = Buffer.alloc(0)
      let sentAt = 0
      const send = () => {
        sentAt = performance.now()
        socket.write(requestBytes)
      }
      const finish = () => {
        socket.destroy()
        resolve()
      }
      socket.on('connect', send)
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
        const response = parseResponse(pending)
        if (!response) return
        responseBytes = response.length
        pending = pending.subarray(response.length)
        count(response.status >= 200 && response.status < 300, sentAt)
        if (performance.now() < stopAt) send()
        else finish()
      })
      socket.on('error', () => {
        count(false, sentAt)
        finish()
      })
      socket.on('close', () => resolve())
    })

  await Promise.all(Array.from({ length: options.concurrency }, connection))
  const seconds = (performance.now() - measureFrom) / 1000
  return {
    ok,
    failed,
    seconds,
    requestsPerSecond: ok / seconds,
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    responseBytes,
    answered,
  }
}

if (process.argv[2] === '--serve') {
  // Runs strictly one after the other: a run must never share the client's core with another.
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    if (!line.trim()) continue
    const result = await runLoad(JSON.parse(line) as LoadOptions)
    process.stdout.write(`${JSON.stringify(result)}\n`)
  }
} else if (process.argv[2]) {
  const result = await runLoad(JSON.parse(process.argv[2]) as LoadOptions)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
