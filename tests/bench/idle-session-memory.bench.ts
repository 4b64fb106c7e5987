/**
 * Heap per idle linked session: real Baileys sockets in the real `Connector` (libSQL auth state,
 * shared key cache, receipt listeners) linked by pairing code to the protocol simulator, which runs
 * in its own process so its accounts and Signal state never count here. Sessions are linked in two
 * steps; the heap after forced GC is read after each, once the sockets have settled (pre-key upload,
 * history-sync notice, app-state sync). The per-session figure is the slope between the two steps,
 * so one-off costs (modules and code paths the first socket loads) stay out of it; the delta from
 * the empty connector is shown beside it.
 *
 * Needs `--expose-gc`. BENCH_SESSIONS sets the total (default 100); linking stops early when it
 * runs past its time budget, and the figure is taken over the sessions actually linked.
 */
import { join } from 'node:path'
import pino from 'pino'
import { Connector } from '../../connector/connector.js'
import { InProcessBus } from '../../shared/bus/in-process.js'
import type { EventMessage } from '../../shared/events.js'
import { LocalMediaStore } from '../../shared/node/local-media-store.js'
import { benchConfig, newSession, openBenchDatabase } from './support/fixtures.js'
import { bySize, emit, log, round } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'idle session memory'
const TOTAL = Number(process.env.BENCH_SESSIONS ?? bySize(100, 4))
/** Sessions linked before the first reading, so one-off costs fall before the slope. */
const FIRST_STEP = Math.min(10, Math.floor(TOTAL / 2))
/** Linking is CPU-bound (key generation, Noise, Signal on both sides); more in flight gains little. */
const LINK_CONCURRENCY = 12
/** Keeps the whole `npm run bench` within a few minutes on two cores. */
const LINK_BUDGET_MS = bySize(80_000, 30_000)
const SETTLE_MS = bySize(4_000, 1_000)
const LINK_TIMEOUT_MS = 30_000
const MB = 1024 * 1024

const gc = globalThis.gc
if (!gc) throw new Error('run with node --expose-gc (npm run bench does)')

/** Heap in use after full collections, once the sockets have gone quiet. */
const settledHeap = async (): Promise<{ heap: number; external: number }> => {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
  // Repeated, with turns between, so finalizers and weak references let go too.
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const { heapUsed, external } = process.memoryUsage()
  return { heap: heapUsed, external }
}

const sim = await SimulatorProcess.start()
const db = await openBenchDatabase()
const bus = new InProcessBus()
const connector = new Connector({
  config: benchConfig({ DATA_DIR: db.dir, WA_WS_URL: sim.info.wsUrl }),
  db: db.client,
  repos: db.repos,
  events: bus,
  commands: bus,
  media: new LocalMediaStore({ dir: join(db.dir, 'media'), publicUrl: 'http://localhost', secret: 's' }),
  logger: pino({ level: 'silent' }),
})

/** Resolves with what `match` returns for the first event it accepts; fails after the link timeout. */
const nextEvent = <T>(match: (message: EventMessage) => T | undefined, what: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`timed out waiting for ${what}`))
    }, LINK_TIMEOUT_MS)
    const unsubscribe = bus.subscribe((message) => {
      const found = match(message)
      if (found === undefined) return
      clearTimeout(timer)
      unsubscribe()
      resolve(found)
    })
  })

/** Creates an account and a session, and links them the way a user would with a pairing code. */
const link = async (index: number): Promise<void> => {
  const sessionId = `bench${index}`
  const phone = `1555${String(index).padStart(7, '0')}`
  await sim.createAccount(phone)
  await db.repos.sessions.create(newSession(sessionId, phone))
  const code = nextEvent(
    (m) =>
      m.event === 'pairing-code' && m.payload.sessionId === sessionId ? m.payload.pairingCode : undefined,
    `the pairing code of ${sessionId}`,
  )
  const open = nextEvent(
    (m) =>
      m.event === 'connection-status' && m.payload.sessionId === sessionId && m.payload.status === 'open'
        ? true
        : undefined,
    `${sessionId} to open`,
  )
  await bus.send(sessionId, 'session.start', { sessionId })
  await sim.enterPairingCode(phone, await code)
  await open
}

const linkStarted = performance.now()
/** Links sessions from `from` up to `to` (exclusive), a few at a time; returns how far it got. */
const linkUpTo = async (from: number, to: number): Promise<number> => {
  let next = from
  let linked = from
  const worker = async () => {
    while (next < to && performance.now() - linkStarted < LINK_BUDGET_MS) {
      await link(next++)
      linked++
    }
  }
  await Promise.all(Array.from({ length: LINK_CONCURRENCY }, worker))
  return linked
}

const elapsed = () => `${((performance.now() - linkStarted) / 1000).toFixed(1)} s`

try {
  await connector.start()
  const empty = await settledHeap()
  log(`empty connector: heap ${(empty.heap / MB).toFixed(1)} MB`)
  const firstCount = await linkUpTo(0, FIRST_STEP)
  const first = await settledHeap()
  log(`${firstCount} linked after ${elapsed()}: heap ${(first.heap / MB).toFixed(1)} MB`)
  const count = await linkUpTo(firstCount, TOTAL)
  const all = await settledHeap()
  log(`${count} linked after ${elapsed()}: heap ${(all.heap / MB).toFixed(1)} MB`)
  const open = (await db.repos.sessions.list()).filter((s) => s.state === 'open').length

  const slope = (all.heap - first.heap) / (count - firstCount) / MB
  const fromEmpty = (all.heap - empty.heap) / count / MB
  const externalSlope = (all.external - first.external) / (count - firstCount) / MB
  emit({
    bench: BENCH,
    metric: `heap per idle linked session (${firstCount}→${count})`,
    value: round(slope, 2),
    unit: 'MB',
    target: { kind: 'max', value: 3 },
    note: `${round(fromEmpty, 2)} MB/session from empty; +${round(externalSlope, 2)} MB external; ${open}/${count} open`,
  })
} finally {
  await connector.stop()
  await bus.close()
  await db.cleanup()
  await sim.stop()
}
// Baileys leaves each login's 30 s pre-key upload timeout armed after the socket closes; nothing
// else is left running, so the process need not wait for those timers.
process.exit()
