/**
 * What idle sessions cost the HTTP API that shares their process: `GET /api/health` requests per
 * second of an embedded product holding 10, 100 and 1,000 idle sessions of one kind, as a ratio of
 * an identical product with no session, measured in the same run.
 *
 * Processes: the protocol simulator (its accounts and Signal state never count here), a baseline
 * product with 0 sessions, one product per kind of session (support/idle-server.ts), and a fresh
 * load client per round (support/load-client.ts: 32 keep-alive connections). Rounds alternate
 * between the baseline and the product under test, so outside load on the shared machine falls on
 * both; a figure is the median of the per-round ratios. Beside requests per second it reads the
 * server's own CPU time per request (background work included), which load from other processes
 * hardly moves: on a busy machine that ratio is the one to read. Kinds:
 *  - linked: linked by pairing code, open, nothing to do but keep-alives;
 *  - unlinked-pairing: a pairing code shown, nobody enters it;
 *  - unlinked-qr: QR codes shown and refreshed by WhatsApp every 20 s, nobody scans them (each
 *    refresh renders a PNG: linking work, done only while linking is wanted);
 *  - unreachable: never linked, WhatsApp refuses the connection: each session waits at the
 *    reconnect backoff's cap (60 s ± 20 %), the steady state of an outage.
 * At each kind's largest count it also reads the heap per session (after forced GC, against the
 * same process before its first session) and the event-loop delay p99 over a quiet window.
 *
 * BENCH_IDLE_COUNTS (default 10,100,1000), BENCH_IDLE_LINKED_MAX (default 100: linking 1,000
 * accounts takes about ten minutes on two cores), BENCH_IDLE_QR_MAX (default 100: 1,000 sessions
 * showing QR codes render 50 PNGs a second, which saturates a core) and BENCH_IDLE_KINDS narrow
 * the run.
 */
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IdleKind, IdleServerOptions } from './support/idle-server.js'
import type { LoadOptions, LoadResult } from './support/load-client.js'
import { firstLine, REPO_ROOT, spawnTs, stopChild, tsNodeArgs } from './support/processes.js'
import { emit, log, round } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'idle sessions'
const COUNTS = (process.env.BENCH_IDLE_COUNTS ?? '10,100,1000').split(',').map(Number)
const LINKED_MAX = Number(process.env.BENCH_IDLE_LINKED_MAX ?? 100)
/** A thousand sessions showing QR codes render 50 PNGs a second: linking work, not idleness. */
const QR_MAX = Number(process.env.BENCH_IDLE_QR_MAX ?? 100)
const maxCount = (kind: IdleKind) =>
  kind === 'linked' ? LINKED_MAX : kind === 'unlinked-qr' ? QR_MAX : Number.POSITIVE_INFINITY
const KINDS = (process.env.BENCH_IDLE_KINDS ?? 'linked,unlinked-pairing,unlinked-qr,unreachable').split(
  ',',
) as IdleKind[]
const ROUNDS = 6
const CONCURRENCY = 32
const WARMUP_MS = 500
const DURATION_MS = 1_200
const QUIET_MS = 5_000
/** Idle sessions must leave the API at least this share of its 0-session rate. */
const RATIO_TARGET = 0.9
const MB = 1024 * 1024

interface Child {
  url: string
  controlUrl: string
  stop(): Promise<void>
}

interface IdleReading {
  heapUsed: number
  rss: number
  delayP99Ms: number
  delayMaxMs: number
}

const startServer = async (options: Omit<IdleServerOptions, 'dataDir'>): Promise<Child> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-idle-'))
  // --expose-gc: the server reads its heap after forced collections.
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      ...tsNodeArgs(new URL('./support/idle-server.ts', import.meta.url), [
        JSON.stringify({ ...options, dataDir }),
      ]),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  try {
    const info = JSON.parse(await firstLine(child, 60_000)) as { url: string; controlUrl: string }
    return { ...info, stop: () => stopChild(child) }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

const control = async <T>(child: Child, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${child.controlUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const answer = (await response.json()) as T & { error?: string }
  if (!response.ok) throw new Error(`${path}: ${answer.error}`)
  return answer
}

/** One load run from a fresh client process. */
const load = async (url: string): Promise<LoadResult> => {
  const options: LoadOptions = { url, concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: DURATION_MS }
  const child = spawnTs(new URL('./support/load-client.ts', import.meta.url), [JSON.stringify(options)])
  try {
    return JSON.parse(await firstLine(child, WARMUP_MS + DURATION_MS + 30_000)) as LoadResult
  } finally {
    await stopChild(child)
  }
}

const rate = (result: LoadResult) => Math.round(result.requestsPerSecond)

interface Measured {
  rps: number
  /** CPU time the server spent per request, its background work included (µs). */
  cpuPerRequest: number
}

interface CpuReading {
  cpuMicros: number
  requests: number
}

/**
 * One load run against a server's health route: requests per second as the client saw them, and
 * the server's own CPU time per request, which other load on the machine hardly moves.
 */
const measure = async (child: Child): Promise<Measured> => {
  const before = await control<CpuReading>(child, '/cpu')
  // A server too busy to answer within the client's time counts as 0 req/s, not as a crash.
  const result = await load(`${child.url}/api/health`).catch(() => null)
  const after = await control<CpuReading>(child, '/cpu')
  return {
    rps: result ? rate(result) : 0,
    cpuPerRequest: (after.cpuMicros - before.cpuMicros) / Math.max(1, after.requests - before.requests),
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

const bare = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('hello')
}).listen(0, '127.0.0.1') as Server
await new Promise((resolve) => bare.once('listening', resolve))
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`

/** A port that was free a moment ago and is closed now: connecting to it is refused at once. */
const refusedPort = async (): Promise<number> => {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on ${cpus().length} cores`,
)
const sim = await SimulatorProcess.start()
const children: Child[] = []
try {
  const baseline = await startServer({
    kind: 'none',
    wsUrl: sim.info.wsUrl,
    simControlUrl: sim.info.controlUrl,
    phonePrefix: '1555000',
  })
  children.push(baseline)
  const baselineRates: number[] = []
  const bareRates: number[] = []
  const points: {
    kind: IdleKind
    count: number
    ratio: number
    cpuRatio: number
    note: string
    cpuNote: string
  }[] = []

  for (const [kindIndex, kind] of KINDS.entries()) {
    const counts = COUNTS.filter((count) => count <= maxCount(kind))
    if (!counts.length) continue
    const wsUrl = kind === 'unreachable' ? `ws://127.0.0.1:${await refusedPort()}/ws/chat` : sim.info.wsUrl
    const server = await startServer({
      kind,
      wsUrl,
      simControlUrl: sim.info.controlUrl,
      // 1 + kind + count digits: every phone number is 11 to 13 digits and unique in the run.
      phonePrefix: `1${kindIndex + 6}`,
    })
    children.push(server)
    const empty = await control<IdleReading>(server, '/idle', { ms: 500 })
    let count = 0
    for (count of counts) {
      const grown = await control<{ sessions: number; seconds: number }>(server, '/grow', { count })
      const states = await control<Record<string, number>>(server, '/states')
      log(`${kind}: ${grown.sessions} sessions in ${grown.seconds.toFixed(1)} s ${JSON.stringify(states)}`)
      // Untimed: the first run after a change warms the JIT and lets the new sessions' start settle.
      await load(`${server.url}/api/health`)
      const base: Measured[] = []
      const under: Measured[] = []
      for (let i = 0; i < ROUNDS; i++) {
        base.push(await measure(baseline))
        under.push(await measure(server))
      }
      const bestBase = Math.max(...base.map((m) => m.rps))
      const bestServer = Math.max(...under.map((m) => m.rps))
      baselineRates.push(bestBase)
      // Each round runs right after its baseline round, under much the same outside load: the
      // median of the per-round ratios is steadier than a ratio of two independent figures.
      const paired = (value: (m: Measured) => number, i: number) =>
        value(under[i] as Measured) / value(base[i] as Measured)
      const ratio = median(under.map((_, i) => paired((m) => m.rps, i)))
      const cpuRatio = median(under.map((_, i) => 1 / paired((m) => m.cpuPerRequest, i)))
      const rounds = under.map((m, i) => `${m.rps}/${base[i]?.rps}`).join(', ')
      const point = {
        kind,
        count,
        ratio,
        cpuRatio,
        note: `best ${bestServer.toLocaleString('en')} vs ${bestBase.toLocaleString('en')} req/s at 0 sessions; rounds ${rounds}`,
        cpuNote: `median ${median(under.map((m) => m.cpuPerRequest)).toFixed(1)} vs ${median(base.map((m) => m.cpuPerRequest)).toFixed(1)} µs CPU per request at 0 sessions`,
      }
      log(`${kind} × ${count}: ${point.note}; ${point.cpuNote}`)
      points.push(point)
    }
    bareRates.push(rate(await load(bareUrl)))
    const quiet = await control<IdleReading>(server, '/idle', { ms: QUIET_MS })
    const perSession = (quiet.heapUsed - empty.heapUsed) / count / MB
    emit({
      bench: BENCH,
      metric: `heap per ${kind} session (${count})`,
      value: round(perSession, 3),
      unit: 'MB',
      ...(kind === 'linked' ? { target: { kind: 'max' as const, value: 3 } } : {}),
      note: `rss ${(quiet.rss / MB).toFixed(0)} MB`,
    })
    emit({
      bench: BENCH,
      metric: `event-loop delay p99, ${count} ${kind} idle`,
      value: round(quiet.delayP99Ms, 1),
      unit: 'ms',
      note: `max ${quiet.delayMaxMs.toFixed(1)} ms over ${QUIET_MS / 1000} s without load`,
    })
    await server.stop()
    children.splice(children.indexOf(server), 1)
  }

  const baselineBest = Math.max(...baselineRates)
  const bareBest = Math.max(...bareRates)
  emit({
    bench: BENCH,
    metric: 'GET /api/health, 0 sessions',
    value: baselineBest,
    unit: 'req/s',
    note: `bare node:http ${bareBest.toLocaleString('en')} req/s (${(baselineBest / bareBest).toFixed(2)}×); best of ${baselineRates.length * ROUNDS} rounds; load average ${loadavg()[0]?.toFixed(2)}`,
  })
  for (const { kind, count, ratio, cpuRatio, note, cpuNote } of points) {
    const target = { kind: 'min' as const, value: RATIO_TARGET }
    emit({
      bench: BENCH,
      metric: `health req/s ÷ 0 sessions, ${count} ${kind}`,
      value: round(ratio, 2),
      unit: '×',
      target,
      note,
    })
    emit({
      bench: BENCH,
      metric: `health CPU/request, 0 sessions ÷ ${count} ${kind}`,
      value: round(cpuRatio, 2),
      unit: '×',
      target,
      note: cpuNote,
    })
  }
  log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
} finally {
  await Promise.all(children.map((child) => child.stop()))
  await sim.stop()
  bare.close()
}
