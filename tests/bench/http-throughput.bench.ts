/**
 * HTTP throughput of the product's read paths beside bare servers measured in the same run:
 *  - bare node:http "hello" (the baseline every ratio is taken against) and bare Hono "hello" on
 *    @hono/node-server (the framework's own floor, for reading the rest);
 *  - bare node:http answering the very bytes of the product's larger answers (the list of 100
 *    sessions, 20 statuses, 1,000 viewers): what moving that many bytes costs by itself;
 *  - the product, embedded (`startEmbedded`: REST + Socket.IO + the connector in one process, data
 *    in a libSQL file) and split (`startApi`, ROLE=api alone, with a real redis-server, s3rver and
 *    a libSQL file seeded as connectors would have written it), each with 0 and with 100 stored
 *    sessions (every field filled; the first session with 20 statuses, its newest with 1,000
 *    viewers): public `GET /api/health`, and with the key `GET /api/sessions`, `…/sent-statuses`
 *    and `…/status-viewers/{id}`.
 * Everything listens on loopback in this process; one load client in its own process (64
 * keep-alive connections) drives each target in turn for a few interleaved rounds (each round
 * starting one target further on, garbage collected between targets), and each target keeps its
 * best round: on a shared two-core machine outside load only ever lowers a figure. The load
 * average is printed with the results, and beside each figure this process's CPU time per answer,
 * which outside load disturbs far less than requests per second (split mode: Redis's own CPU time
 * is not in it).
 *
 * Targets (DESIGN.md): health ≥ 0.7× bare node:http; authenticated reads ≥ 0.5× with 0 sessions;
 * the list of 100 sessions ≥ 0.3×; statuses and viewers, whose answers are 10 and 125 KB, ≥ 0.5×
 * of bare node:http sending the same bytes (against "hello" they would measure the loopback).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { applyV8Flags } from '../../shared/node/v8-tuning.js'
import {
  BENCH_API_KEY,
  EMPTY,
  type HttpProduct,
  REALISTIC,
  readPaths,
  startEmbeddedProduct,
  startSplitApi,
  startSplitInfra,
} from './support/http-products.js'
import type { LoadOptions, LoadResult } from './support/load-client.js'
import { firstLine, spawnTs, stopChild } from './support/processes.js'
import { bySize, emit, log, round } from './support/report.js'

// The product runs with these flags (shared/node/process-entry.ts).
applyV8Flags()

const BENCH = 'http throughput'
const CONCURRENCY = 64
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? bySize(3, 1))
const WARMUP_MS = bySize(400, 100)
const DURATION_MS = Number(process.env.BENCH_HTTP_DURATION_MS ?? bySize(2_000, 300))

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

const load1 = () => (loadavg()[0] ?? 0).toFixed(2)
const loadAtStart = load1()

// ── servers ──────────────────────────────────────────────────────────────────────────────────

const bareNode = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('hello')
}).listen(0, '127.0.0.1')
const bareHono = serve({
  fetch: new Hono().get('/', (c) => c.text('hello')).fetch,
  port: 0,
  hostname: '127.0.0.1',
}) as Server
/**
 * Bare node:http answering fixed answers by path: the cost of the bytes alone, with just a
 * content type, or (for the health check) with every header the product sends.
 */
const payloads = new Map<string, { body: Buffer; headers: Record<string, string> }>()
const bareBytes = createServer((req, res) => {
  const payload = payloads.get(req.url ?? '')
  if (!payload) {
    res.writeHead(404).end()
    return
  }
  res.writeHead(200, { ...payload.headers, 'content-length': String(payload.body.length) })
  res.end(payload.body)
}).listen(0, '127.0.0.1')
await Promise.all([bareNode, bareHono, bareBytes].map(listening))

log('starting the products (embedded and split, 0 and 100 sessions)')
const infra = await startSplitInfra()
const products: { name: string; product: HttpProduct; sessions: number }[] = []
try {
  products.push({ name: 'embedded', product: await startEmbeddedProduct(EMPTY), sessions: 0 })
  products.push({ name: 'embedded', product: await startEmbeddedProduct(REALISTIC), sessions: 100 })
  products.push({ name: 'split', product: await startSplitApi(infra, EMPTY), sessions: 0 })
  products.push({ name: 'split', product: await startSplitApi(infra, REALISTIC), sessions: 100 })
} catch (error) {
  await Promise.allSettled(products.map(({ product }) => product.stop()))
  await infra.stop()
  throw error
}

// ── targets ──────────────────────────────────────────────────────────────────────────────────

type Baseline = 'bare node:http hello' | `bare node:http, ${string}`

interface Target {
  label: string
  url: string
  headers: Record<string, string>
  /** Minimum ratio to `baseline`; none for the baselines themselves. */
  goal?: { ratio: number; baseline: Baseline }
}

const keyed = { 'x-api-key': BENCH_API_KEY }
const HELLO: Baseline = 'bare node:http hello'
const targets: Target[] = [
  { label: HELLO, url: `${address(bareNode)}/`, headers: {} },
  { label: 'bare Hono hello', url: `${address(bareHono)}/`, headers: {} },
]

/** What the transport adds by itself, or what differs per request: not part of a fixed answer. */
const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

/**
 * Registers the answer a product gives on `path` with a bare server for the same bytes: the body
 * with only a content type, or with `allHeaders` every header the product sent (its request id
 * included, as a fixed string).
 */
const sameBytes = async (
  product: HttpProduct,
  path: string,
  name: string,
  allHeaders = false,
): Promise<Baseline> => {
  const label: Baseline = `bare node:http, ${name}`
  if (targets.some((t) => t.label === label)) return label
  // The health check is asked as load balancers ask it, without the key.
  const response = await fetch(`${product.url}${path}`, { headers: allHeaders ? {} : keyed })
  if (!response.ok) throw new Error(`${path} answered ${response.status}`)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (allHeaders) {
    for (const [header, value] of response.headers)
      if (!TRANSPORT_HEADERS.has(header)) headers[header] = value
  }
  payloads.set(`/${payloads.size}`, { body: Buffer.from(await response.arrayBuffer()), headers })
  targets.push({ label, url: `${address(bareBytes)}/${payloads.size - 1}`, headers: {} })
  return label
}

/** The bare server sending the health answer with all the product's headers (embedded, 0 sessions). */
const HEALTH_ANSWER: Baseline = 'bare node:http, the health answer with all its headers'

for (const { name, product, sessions } of products) {
  const paths = readPaths(product.ids)
  const where = `${name}, ${sessions} sessions`
  if (name === 'embedded' && sessions === 0)
    await sameBytes(product, paths.health, 'the health answer with all its headers', true)
  targets.push({
    label: `${where}: GET /api/health`,
    url: `${product.url}${paths.health}`,
    headers: {},
    goal: { ratio: 0.7, baseline: HELLO },
  })
  targets.push({
    label: `${where}: GET /api/sessions (key)`,
    url: `${product.url}${paths.sessions}`,
    headers: keyed,
    goal: { ratio: sessions === 0 ? 0.5 : 0.3, baseline: HELLO },
  })
  if (paths.statuses) {
    targets.push({
      label: `${where}: GET …/sent-statuses (key, 20)`,
      url: `${product.url}${paths.statuses}`,
      headers: keyed,
      goal: { ratio: 0.5, baseline: await sameBytes(product, paths.statuses, '20 statuses') },
    })
  }
  if (paths.viewers) {
    targets.push({
      label: `${where}: GET …/status-viewers/{id} (key, 1,000)`,
      url: `${product.url}${paths.viewers}`,
      headers: keyed,
      goal: { ratio: 0.5, baseline: await sameBytes(product, paths.viewers, '1,000 viewers') },
    })
  }
  if (sessions === 100) await sameBytes(product, paths.sessions, '100 sessions')
}

// ── load ─────────────────────────────────────────────────────────────────────────────────────

/** One load client for the whole run, driven line by line (`load-client.ts --serve`). */
const client = spawnTs(
  new URL('./support/load-client.ts', import.meta.url),
  ['--serve'],
  {},
  { stdin: 'pipe' },
)
const load = async (target: Target): Promise<LoadResult> => {
  const options: LoadOptions = {
    url: target.url,
    headers: target.headers,
    concurrency: CONCURRENCY,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
  }
  client.stdin?.write(`${JSON.stringify(options)}\n`)
  return JSON.parse(await firstLine(client, WARMUP_MS + DURATION_MS + 30_000)) as LoadResult
}

/** What each target's best round measured, and this process's CPU time per answer in it. */
const best = new Map<string, LoadResult & { cpuUs: number }>()
const loads: string[] = [loadAtStart]
const gc = (globalThis as { gc?: () => void }).gc
try {
  // The client's own JIT warms up on the cheapest target first, so round 1 of the baseline is fair.
  await load({ label: 'warm-up', url: `${address(bareNode)}/`, headers: {} })
  for (let roundNumber = 1; roundNumber <= ROUNDS; roundNumber++) {
    // Each round starts one target further on, so no target always runs right after the heaviest.
    const order = targets.map((_, i) => targets[(i + roundNumber - 1) % targets.length] as Target)
    for (const target of order) {
      // Garbage of the previous target is collected now, not during this one's measurement.
      gc?.()
      const cpuBefore = process.cpuUsage()
      const result = await load(target)
      const cpu = process.cpuUsage(cpuBefore)
      const cpuUs = (cpu.user + cpu.system) / Math.max(1, result.answered)
      log(
        `round ${roundNumber} ${target.label}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms} ms, ` +
          `${cpuUs.toFixed(1)} µs CPU/answer${result.failed ? ` (${result.failed} failed)` : ''}`,
      )
      const previous = best.get(target.label)
      if (!previous || result.requestsPerSecond > previous.requestsPerSecond) {
        best.set(target.label, { ...result, cpuUs })
      }
    }
    loads.push(load1())
    log(`round ${roundNumber} done, load average ${load1()}`)
  }
} finally {
  client.stdin?.end()
  await stopChild(client)
  await Promise.allSettled(products.map(({ product }) => product.stop()))
  await infra.stop()
  await Promise.all([bareNode, bareHono, bareBytes].map(close))
}

// ── report ───────────────────────────────────────────────────────────────────────────────────

const rate = (label: string) => best.get(label)?.requestsPerSecond ?? 0
const hello = rate(HELLO)
const describe = (label: string) => {
  const result = best.get(label)
  if (!result) return ''
  const bytes =
    result.responseBytes >= 1024
      ? `${(result.responseBytes / 1024).toFixed(1)} KB`
      : `${result.responseBytes} B`
  return `${Math.round(result.requestsPerSecond).toLocaleString('en')} req/s, p99 ${result.p99Ms} ms, ${bytes}, ${result.cpuUs.toFixed(0)} µs CPU${
    result.failed ? `, ${result.failed} failed` : ''
  }`
}

emit({
  bench: BENCH,
  metric: 'load average (1 min) at start, after each round',
  value: Number(loadAtStart),
  unit: '',
  note: `${loads.join(' → ')} on ${cpus().length} cores; best of ${ROUNDS} × ${DURATION_MS / 1000} s, ${CONCURRENCY} keep-alive connections`,
})
emit({ bench: BENCH, metric: HELLO, value: Math.round(hello), unit: 'req/s', note: describe(HELLO) })
for (const target of targets.slice(1)) {
  if (!target.goal) {
    emit({
      bench: BENCH,
      metric: `${target.label} ÷ hello`,
      value: round(rate(target.label) / hello, 2),
      unit: '×',
      note: describe(target.label),
    })
    continue
  }
  const { ratio, baseline } = target.goal
  const versusHello = baseline === HELLO ? '' : `; ${round(rate(target.label) / hello, 2)}× hello`
  // Health against the same answer, headers and all: what the product costs beyond its bytes.
  const versusAnswer = target.label.endsWith('GET /api/health')
    ? `; ${round(rate(target.label) / rate(HEALTH_ANSWER), 2)}× the same answer from bare node:http`
    : ''
  emit({
    bench: BENCH,
    metric: `${target.label} ÷ ${baseline === HELLO ? 'hello' : 'same bytes'}`,
    value: round(rate(target.label) / rate(baseline), 2),
    unit: '×',
    target: { kind: 'min', value: ratio },
    baseline: { label: baseline, value: Math.round(rate(baseline)), unit: 'req/s' },
    note: `${describe(target.label)}${versusHello}${versusAnswer}`,
  })
}
