/**
 * A thousand linked idle sessions on one connector: what they cost in memory, in event-loop delay
 * and in `GET /api/health` throughput of the embedded product that holds them, beside an identical
 * product with no session measured in the same run.
 *
 * Processes: the protocol simulator, a baseline product with 0 sessions and the product under test
 * (support/idle-server.ts), and a fresh load client per load run. The sessions are real Baileys
 * sockets logged in to the simulator and open. Linking a thousand accounts by pairing code takes
 * about ten minutes on two cores, so each account registers its companion with the simulator up
 * front (tests/sim/registered-creds.ts: fresh `initAuthCreds()`, signed by the simulated phone,
 * applied by Baileys' own pair-success handling, with 30 one-time pre-keys on the server) and the
 * creds and keys are written to the product's auth store; the session then starts and logs in as a
 * linked one does after a restart: one Noise handshake, then the history-sync notice and app-state
 * sync of a first login. (Uploading the 812 pre-keys of a real first login would cost about 0.3 s
 * of key generation per session: five more minutes for a thousand on two cores.)
 *
 * At FIRST (100) and at TOTAL (1,000) sessions, once settled:
 *  - heap and RSS after forced GC (per-session figures are the slope FIRST → TOTAL, so one-off
 *    costs stay out of them; the delta from the empty product is shown beside);
 *  - event-loop delay p50/p99/max over a quiet window (how late a 10 ms timer ran);
 *  - health req/s and server CPU per request against the baseline, in alternating rounds (median
 *    of the paired ratios; CPU per request is the steadier one on a busy machine).
 * At TOTAL also: the event-loop delay while the health route is under load (both products), and
 * the timer callbacks the process runs per session and minute over a minute of idleness (beyond the
 * baseline's), by timer period: an idle session should wake no timer more than once a minute.
 *
 * BENCH_IDLE_TOTAL (default 1000) and BENCH_IDLE_FIRST (default 100) set the counts; BENCH_SMOKE=1
 * runs a tiny version (5 → 20 sessions, short windows) that checks the bench itself works.
 */
import { cpus, loadavg } from 'node:os'
import {
  control,
  type DelayReading,
  type IdleProduct,
  type IdleReading,
  LOAD_DEFAULTS,
  load,
  type Paired,
  pairedRounds,
  startIdleProduct,
  type TimerReading,
} from './support/idle-product.js'
import { bySize, emit, log, round, SMOKE } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'idle 1,000 linked'
const TOTAL = Number(process.env.BENCH_IDLE_TOTAL ?? bySize(1_000, 20))
const FIRST = Math.min(Number(process.env.BENCH_IDLE_FIRST ?? bySize(100, 5)), TOTAL - 1)
const ROUNDS = bySize(6, 2)
const QUIET_MS = bySize(5_000, 1_000)
/** Long enough for every once-a-minute timer to fire exactly once. */
const TIMER_WINDOW_MS = bySize(60_000, 2_000)
/** The load run the delay under load is read during; the reading starts after its warm-up. */
const LOADED = { warmupMs: LOAD_DEFAULTS.warmupMs, durationMs: bySize(4_000, 1_500) }
const LOADED_READ_MS = LOADED.durationMs - 1_000
/** Sessions are added in steps of this many, so no `/grow` call holds its connection for minutes. */
const GROW_STEP = 100
/** Idle sessions must leave the API at least this share of its 0-session rate. */
const RATIO_TARGET = 0.9
const MB = 1024 * 1024

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

const ms = (value: number) => `${value.toFixed(1)} ms`
const delayNote = ({ delayP50Ms, delayP99Ms, delayMaxMs }: DelayReading) =>
  `p50 ${ms(delayP50Ms)}, p99 ${ms(delayP99Ms)}, max ${ms(delayMaxMs)}`

/** Event-loop delay of `product` while a load client keeps its health route busy. */
const delayUnderLoad = async (product: IdleProduct): Promise<DelayReading> => {
  const running = load(`${product.url}/api/health`, LOADED)
  await new Promise((resolve) => setTimeout(resolve, LOADED.warmupMs + 500))
  const reading = await control<DelayReading>(product, '/delay', { ms: LOADED_READ_MS })
  await running
  return reading
}

const sim = await SimulatorProcess.start()
const children: IdleProduct[] = []
log(`load average ${loadAverage()} on ${cpus().length} cores${SMOKE ? ' (smoke run)' : ''}`)
try {
  const baseline = await startIdleProduct({
    kind: 'none',
    wsUrl: sim.info.wsUrl,
    simControlUrl: sim.info.controlUrl,
    phonePrefix: '1555000',
  })
  children.push(baseline)
  const product = await startIdleProduct({
    kind: 'linked',
    linkBy: 'registration',
    wsUrl: sim.info.wsUrl,
    simControlUrl: sim.info.controlUrl,
    // 11 to 13 digits, unique in the run.
    phonePrefix: '1557',
  })
  children.push(product)
  const empty = await control<IdleReading>(product, '/idle', { ms: 500 })

  interface Step {
    count: number
    seconds: number
    open: number
    quiet: IdleReading
    paired: Paired
  }
  const step = async (count: number): Promise<Step> => {
    const started = performance.now()
    for (let next = 0; next < count; ) {
      next = Math.min(count, next + GROW_STEP)
      // Settling once, after the last step.
      await control(product, '/grow', { count: next, ...(next < count ? { settleMs: 0 } : {}) })
    }
    const grown = { sessions: count, seconds: (performance.now() - started) / 1000 }
    const states = await control<Record<string, number>>(product, '/states')
    log(`${grown.sessions} linked sessions after ${grown.seconds.toFixed(1)} s ${JSON.stringify(states)}`)
    // Untimed: warms the JIT and lets the new sessions' start settle.
    await load(`${product.url}/api/health`)
    const quiet = await control<IdleReading>(product, '/idle', { ms: QUIET_MS })
    const paired = await pairedRounds(baseline, product, ROUNDS)
    log(
      `${count}: heap ${(quiet.heapUsed / MB).toFixed(1)} MB, rss ${(quiet.rss / MB).toFixed(0)} MB, idle delay ${delayNote(quiet)}; health ${paired.ratio.toFixed(2)}× (rounds ${paired.rounds}), CPU ${paired.cpuRatio.toFixed(2)}×; load average ${loadAverage()}`,
    )
    return { count, seconds: grown.seconds, open: states.open ?? 0, quiet, paired }
  }

  const first = await step(FIRST)
  const all = await step(TOTAL)
  const baseQuiet = await control<IdleReading>(baseline, '/idle', { ms: QUIET_MS })
  const loaded = await delayUnderLoad(product)
  const baseLoaded = await delayUnderLoad(baseline)
  log(`under load: ${delayNote(loaded)}; 0 sessions: ${delayNote(baseLoaded)}`)
  const [timers, baseTimers] = await Promise.all([
    control<TimerReading>(product, '/timers', { ms: TIMER_WINDOW_MS }),
    control<TimerReading>(baseline, '/timers', { ms: TIMER_WINDOW_MS }),
  ])
  log(`timer callbacks over ${TIMER_WINDOW_MS / 1000} s by period (ms): ${JSON.stringify(timers.byPeriod)}`)
  const finalStates = await control<Record<string, number>>(product, '/states')

  const slope = (field: 'heapUsed' | 'rss') =>
    (all.quiet[field] - first.quiet[field]) / (all.count - first.count) / MB
  const fromEmpty = (field: 'heapUsed' | 'rss') => (all.quiet[field] - empty[field]) / all.count / MB

  emit({
    bench: BENCH,
    metric: `linked sessions open (${TOTAL})`,
    value: finalStates.open ?? 0,
    unit: 'sessions',
    target: { kind: 'min', value: TOTAL },
    note: `${TOTAL - FIRST} logged in with registered creds in ${all.seconds.toFixed(0)} s; states at the end ${JSON.stringify(finalStates)}`,
  })
  emit({
    bench: BENCH,
    metric: `heap per linked idle session (${FIRST}→${TOTAL})`,
    value: round(slope('heapUsed'), 3),
    unit: 'MB',
    target: { kind: 'max', value: 3 },
    note: `heap ${(all.quiet.heapUsed / MB).toFixed(0)} MB at ${TOTAL}, ${(empty.heapUsed / MB).toFixed(0)} MB empty (${fromEmpty('heapUsed').toFixed(3)} MB/session from empty)`,
  })
  emit({
    bench: BENCH,
    metric: `RSS per linked idle session (${FIRST}→${TOTAL})`,
    value: round(slope('rss'), 3),
    unit: 'MB',
    note: `rss ${(all.quiet.rss / MB).toFixed(0)} MB at ${TOTAL}, ${(empty.rss / MB).toFixed(0)} MB empty (${fromEmpty('rss').toFixed(3)} MB/session from empty)`,
  })
  emit({
    bench: BENCH,
    metric: `event-loop delay p99, ${TOTAL} linked idle`,
    value: round(all.quiet.delayP99Ms, 1),
    unit: 'ms',
    baseline: { label: '0 sessions', value: round(baseQuiet.delayP99Ms, 1), unit: 'ms' },
    note: `${delayNote(all.quiet)} over ${QUIET_MS / 1000} s without load; 0 sessions ${delayNote(baseQuiet)}; ${FIRST} sessions ${delayNote(first.quiet)}`,
  })
  emit({
    bench: BENCH,
    metric: `event-loop delay p99 under health load, ${TOTAL} linked`,
    value: round(loaded.delayP99Ms, 1),
    unit: 'ms',
    baseline: { label: '0 sessions', value: round(baseLoaded.delayP99Ms, 1), unit: 'ms' },
    note: `${delayNote(loaded)} over ${LOADED_READ_MS / 1000} s of ${LOAD_DEFAULTS.concurrency} keep-alive connections; 0 sessions ${delayNote(baseLoaded)}`,
  })
  const wakes = ((timers.total / timers.ms - baseTimers.total / baseTimers.ms) * 60_000) / TOTAL
  emit({
    bench: BENCH,
    metric: `timer callbacks per linked idle session per minute (${TOTAL})`,
    value: round(wakes, 2),
    unit: '/min',
    note: `${timers.total} in ${timers.ms / 1000} s (0 sessions: ${baseTimers.total}), by period in ms ${JSON.stringify(timers.byPeriod)}`,
  })
  for (const { count, paired } of [first, all]) {
    const target = { kind: 'min' as const, value: RATIO_TARGET }
    emit({
      bench: BENCH,
      metric: `health req/s ÷ 0 sessions, ${count} linked`,
      value: round(paired.ratio, 2),
      unit: '×',
      target,
      baseline: { label: '0 sessions, best round', value: paired.bestBase, unit: 'req/s' },
      note: `best ${paired.bestUnder.toLocaleString('en')} vs ${paired.bestBase.toLocaleString('en')} req/s; rounds ${paired.rounds}`,
    })
    emit({
      bench: BENCH,
      metric: `health CPU/request, 0 sessions ÷ ${count} linked`,
      value: round(paired.cpuRatio, 2),
      unit: '×',
      target,
      baseline: { label: '0 sessions, median', value: round(paired.baseCpu, 1), unit: 'µs' },
      note: `median ${paired.underCpu.toFixed(1)} vs ${paired.baseCpu.toFixed(1)} µs CPU per request, of it GC pauses ${paired.underGc.toFixed(1)} vs ${paired.baseGc.toFixed(1)} µs`,
    })
  }
  log(`load average ${loadAverage()}`)
} finally {
  await Promise.all(children.map((child) => child.stop()))
  await sim.stop()
}
