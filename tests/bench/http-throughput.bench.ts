/**
 * HTTP throughput of the product's Hono app (every middleware: request id, secure headers, rate
 * limiter, API-key check, JSON body limit) against a bare node:http "hello". All servers listen on
 * loopback at once; the same keep-alive load loop (separate process, 32 connections, fixed
 * duration) runs against each in turn, for a few interleaved rounds, and each keeps its best round:
 * on a shared two-core machine, outside load only ever lowers a figure.
 *  - bare Hono "hello" on @hono/node-server: the framework's own floor, for reading the rest;
 *  - GET /api/health: public route, every middleware but the key check, no database;
 *  - GET /api/sessions with the key: key check plus a libSQL read of the session list.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { BENCH_API_KEY, createBenchApp, newSession } from './support/fixtures.js'
import type { LoadOptions, LoadResult } from './support/load-client.js'
import { firstLine, spawnTs, stopChild } from './support/processes.js'
import { emit, log, round } from './support/report.js'

const BENCH = 'http throughput'
const CONCURRENCY = 32
const ROUNDS = 2
const WARMUP_MS = 500
const DURATION_MS = 2_500
/** Design budget: Hono with a key check ≈ 0.7× bare node:http. */
const RATIO_TARGET = 0.7

const address = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const listening = (server: Server): Promise<Server> =>
  new Promise((resolve, reject) => {
    if (server.listening) return resolve(server)
    server.once('error', reject)
    server.once('listening', () => resolve(server))
  })

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })

/** One load run from a fresh client process; requests per second answered 2xx. */
const load = async (url: string, headers: Record<string, string>): Promise<LoadResult> => {
  const options: LoadOptions = {
    url,
    headers,
    concurrency: CONCURRENCY,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
  }
  const child = spawnTs(new URL('./support/load-client.ts', import.meta.url), [JSON.stringify(options)])
  try {
    return JSON.parse(await firstLine(child, WARMUP_MS + DURATION_MS + 30_000)) as LoadResult
  } finally {
    await stopChild(child)
  }
}

const bareNode = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('hello')
}).listen(0, '127.0.0.1')
const bareHono = serve({
  fetch: new Hono().get('/', (c) => c.text('hello')).fetch,
  port: 0,
  hostname: '127.0.0.1',
}) as Server
const fixture = await createBenchApp()
for (let i = 1; i <= 3; i++) await fixture.db.repos.sessions.create(newSession(`s${i}`, `1555000000${i}`))
const product = serve({ fetch: fixture.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
await Promise.all([bareNode, bareHono, product].map(listening))

const targets: { label: string; url: string; headers: Record<string, string> }[] = [
  { label: 'bare node:http hello', url: `${address(bareNode)}/`, headers: {} },
  { label: 'bare Hono hello', url: `${address(bareHono)}/`, headers: {} },
  { label: 'GET /api/health', url: `${address(product)}/api/health`, headers: {} },
  {
    label: 'GET /api/sessions (key + db read)',
    url: `${address(product)}/api/sessions`,
    headers: { 'x-api-key': BENCH_API_KEY },
  },
]
const best = new Map<string, LoadResult>()
for (let roundNumber = 1; roundNumber <= ROUNDS; roundNumber++) {
  for (const target of targets) {
    const result = await load(target.url, target.headers)
    log(
      `round ${roundNumber} ${target.label}: ${Math.round(result.requestsPerSecond)} req/s (${result.failed} failed)`,
    )
    const previous = best.get(target.label)
    if (!previous || result.requestsPerSecond > previous.requestsPerSecond) best.set(target.label, result)
  }
}
await Promise.all([bareNode, bareHono, product].map(close))
await fixture.close()

const rate = (label: string) => best.get(label)?.requestsPerSecond ?? 0
const bareRate = rate('bare node:http hello')
emit({
  bench: BENCH,
  metric: 'bare node:http hello',
  value: Math.round(bareRate),
  unit: 'req/s',
  note: `best of ${ROUNDS} × ${DURATION_MS / 1000} s, ${CONCURRENCY} keep-alive connections`,
})
for (const { label } of targets.slice(1)) {
  const failed = best.get(label)?.failed ?? 0
  emit({
    bench: BENCH,
    metric: `${label} ÷ bare`,
    value: round(rate(label) / bareRate, 2),
    unit: '×',
    ...(label === 'bare Hono hello' ? {} : { target: { kind: 'min' as const, value: RATIO_TARGET } }),
    note: `${Math.round(rate(label)).toLocaleString('en')} req/s${failed ? `, ${failed} failed` : ''}`,
  })
}
