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
 * same process before its first session) and the event-loop delay p99 over a quiet window (how
 * late a 10 ms timer ran).
 *
 * BENCH_IDLE_COUNTS (default 10,100,1000), BENCH_IDLE_LINKED_MAX (default 100: linking 1,000
 * accounts by pairing code takes about ten minutes on two cores; idle-1000.bench.ts holds 1,000
 * linked sessions with creds registered up front), BENCH_IDLE_QR_MAX (default 100: 1,000 sessions
 * showing QR codes render 50 PNGs a second, which saturates a core) and BENCH_IDLE_KINDS narrow
 * the run.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg } from 'node:os'
import {
  control,
  type IdleProduct,
  type IdleReading,
  load,
  pairedRounds,
  rate,
  startIdleProduct,
} from './support/idle-product.js'
import type { IdleKind } from './support/idle-server.js'
import { bySize, emit, log, round } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'idle sessions'
// BENCH_SMOKE: two sessions of each kind, one short round: proves the bench runs, judges nothing.
const COUNTS = (process.env.BENCH_IDLE_COUNTS ?? bySize('10,100,1000', '2')).split(',').map(Number)
const LINKED_MAX = Number(process.env.BENCH_IDLE_LINKED_MAX ?? 100)
/** A thousand sessions showing QR codes render 50 PNGs a second: linking work, not idleness. */
const QR_MAX = Number(process.env.BENCH_IDLE_QR_MAX ?? 100)
const maxCount = (kind: IdleKind) =>
  kind === 'linked' ? LINKED_MAX : kind === 'unlinked-qr' ? QR_MAX : Number.POSITIVE_INFINITY
const KINDS = (process.env.BENCH_IDLE_KINDS ?? 'linked,unlinked-pairing,unlinked-qr,unreachable').split(
  ',',
) as IdleKind[]
const ROUNDS = bySize(6, 1)
const QUIET_MS = bySize(5_000, 500)
/** Idle sessions must leave the API at least this share of its 0-session rate. */
const RATIO_TARGET = 0.9
const MB = 1024 * 1024

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
const children: IdleProduct[] = []
try {
  const baseline = await startIdleProduct({
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
    const server = await startIdleProduct({
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
      // Each round runs right after its baseline round, under much the same outside load: the
      // median of the per-round ratios is steadier than a ratio of two independent figures.
      const { ratio, cpuRatio, bestBase, bestUnder, rounds, baseCpu, underCpu } = await pairedRounds(
        baseline,
        server,
        ROUNDS,
      )
      baselineRates.push(bestBase)
      const point = {
        kind,
        count,
        ratio,
        cpuRatio,
        note: `best ${bestUnder.toLocaleString('en')} vs ${bestBase.toLocaleString('en')} req/s at 0 sessions; rounds ${rounds}`,
        cpuNote: `median ${underCpu.toFixed(1)} vs ${baseCpu.toFixed(1)} µs CPU per request at 0 sessions`,
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
