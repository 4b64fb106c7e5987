/**
 * One embedded product (`startEmbedded`: REST, Socket.IO, the connector with real Baileys sockets)
 * holding idle sessions of one kind, in its own process, for `idle-sessions.bench.ts`:
 *
 *   node --expose-gc --import tsx tests/bench/support/idle-server.ts <json IdleServerOptions>
 *
 * Prints one JSON line (`{ url, controlUrl }`) once listening. The control API on `controlUrl`:
 *
 *   POST /grow { count, settleMs? }  adds sessions until `count` exist and waits `settleMs` (4 s)
 *                          for them to settle; → { sessions, seconds }. Grows run one at a time.
 *   POST /idle { ms }      heap and RSS after forced GC, and event-loop delay over `ms` without load
 *   POST /delay { ms }     event-loop delay over the next `ms`, nothing else (e.g. while under load)
 *   POST /timers { ms }    timer callbacks that ran over the next `ms`, by their period; an async
 *                          hook counts them, so the window is for counting only, not for timing
 *   GET  /states           → { [state]: count }
 *   GET  /cpu              → { cpuMicros, requests, gc }: CPU time this process used and HTTP
 *                            requests it received so far, and GC pauses by kind ({ count, ms });
 *                            deltas around a load run give CPU and GC time per request,
 *                            background work included, whatever else runs on the machine
 *   GET  /heap-spaces      V8's heap space statistics
 *   POST /profile { ms, file }      a CPU profile of the next `ms`, written to `file`
 *   POST /heap-sample { ms, file }  allocation sampling over the next `ms` (a `.heapprofile`): where
 *                          what is still in the heap at the end was allocated
 *
 * Event-loop delays are what a 10 ms timer was late by (the histogram's own interval taken off).
 *
 * Kinds: `none` (the 0-session baseline), `linked` (linked to the simulator and open: by pairing
 * code, or with `linkBy: 'registration'` by creds and 30 one-time pre-keys registered with the
 * simulator up front, see tests/sim/registered-creds.ts, written to the product's auth store before
 * the session starts),
 * `unlinked-pairing` (a pairing code shown, nobody enters it), `unlinked-qr` (QR codes shown and
 * refreshed, nobody scans them), `unreachable` (never linked, WhatsApp refuses connections: the
 * session sits in its reconnect backoff).
 */
import { createHook, executionAsyncResource } from 'node:async_hooks'
import { subscribe } from 'node:diagnostics_channel'
import { rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
import { initAuthCreds } from '@whiskeysockets/baileys'
import pino from 'pino'
import { createDbAuthState } from '../../../connector/auth/auth-state.js'
import { startEmbedded } from '../../../embedded/embedded.js'
import { loadConfig } from '../../../shared/config.js'
import type { EventMessage } from '../../../shared/events.js'
import { applyV8Flags } from '../../../shared/node/v8-tuning.js'
import {
  applyRegistration,
  generatePreKeys,
  type RegistrationAnswer,
  registrationBody,
} from '../../sim/registered-creds.js'
import { BENCH_API_KEY, newSession } from './fixtures.js'

// As `npm start` runs the product (shared/node/process-entry.ts).
applyV8Flags()

export type IdleKind = 'none' | 'linked' | 'unlinked-pairing' | 'unlinked-qr' | 'unreachable'

export interface IdleServerOptions {
  kind: IdleKind
  dataDir: string
  /** The simulator's WebSocket URL, or a refused one for `unreachable`. */
  wsUrl: string
  /** The simulator's control API (accounts, pairing codes). */
  simControlUrl: string
  /** Distinct phone numbers per server, so two servers never share simulator accounts. */
  phonePrefix: string
  /** How `linked` sessions get linked (default `pairing-code`). */
  linkBy?: 'pairing-code' | 'registration'
}

/** Linking is CPU-bound on both sides (keys, Noise, Signal); more in flight gains little on two cores. */
const LINK_CONCURRENCY = 12
/** A login with registered creds is little more than one handshake: more at a time. */
const REGISTERED_CONCURRENCY = 20
/**
 * One-time pre-keys registered with each such companion, as a companion that logged in before has
 * on the server: its login then uploads none. (The 812 a first login uploads would cost each session
 * about 0.3 s of key generation, five minutes for a thousand on two cores.)
 */
const REGISTERED_PRE_KEYS = 30
/** The event-loop delay histogram's interval; readings are what it was late by. */
const DELAY_RESOLUTION_MS = 10
/** Sessions that need no linking start a few at a time, so start-up itself is no storm. */
const START_CONCURRENCY = 25
const WAIT_MS = 60_000
/** Pre-key upload, history-sync notice and app-state sync follow an open; let them finish. */
const SETTLE_MS = 4_000

let requests = 0
subscribe('http.server.request.start', () => {
  requests++
})

/** GC pauses since start, by kind: count and total milliseconds. */
const gcTotals: Record<string, { count: number; ms: number }> = {}
const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
}
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail
    const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other'
    const total = gcTotals[kind] ?? { count: 0, ms: 0 }
    gcTotals[kind] = total
    total.count++
    total.ms += entry.duration
  }
}).observe({ entryTypes: ['gc'] })

const options = JSON.parse(process.argv[2] ?? '{}') as IdleServerOptions
const gc = globalThis.gc
if (!gc) throw new Error('run with node --expose-gc')

const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  API_KEY: BENCH_API_KEY,
  DATA_DIR: options.dataDir,
  WA_WS_URL: options.wsUrl,
  LOG_LEVEL: 'silent',
  // The load client opens 32 keep-alive connections from one address.
  HTTP_MAX_CONNECTIONS_PER_IP: '0',
})
const product = await startEmbedded({
  config,
  logger: pino({ level: 'silent' }),
  connector:
    options.kind === 'unreachable'
      ? // The steady state of an outage: every session waits at the backoff cap (60 s ± 20 %).
        { backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0.2 } }
      : {},
})

const events = product.bus
/** Resolves with what `match` returns for the first event it accepts. */
const nextEvent = <T>(match: (message: EventMessage) => T | undefined, what: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`timed out waiting for ${what}`))
    }, WAIT_MS)
    const unsubscribe = events.subscribe((message) => {
      const found = match(message)
      if (found === undefined) return
      clearTimeout(timer)
      unsubscribe()
      resolve(found)
    })
  })

const simCall = async <T = unknown>(path: string, body: unknown): Promise<T> => {
  const response = await fetch(`${options.simControlUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`simulator ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

const statusOf = (sessionId: string, wanted: (status: string) => boolean) =>
  nextEvent(
    (m) =>
      m.event === 'connection-status' && m.payload.sessionId === sessionId && wanted(m.payload.status)
        ? m.payload.status
        : undefined,
    `${sessionId} to change state`,
  )

/** Creates one session of this server's kind and brings it to its idle state. */
const addSession = async (index: number): Promise<void> => {
  const sessionId = `idle${index}`
  const phone = `${options.phonePrefix}${String(index).padStart(6, '0')}`
  const record = newSession(sessionId, phone)
  const start = () => product.bus.send(sessionId, 'session.start', { sessionId })
  switch (options.kind) {
    case 'none':
      return
    case 'linked': {
      await simCall('/accounts', { phone })
      await product.repos.sessions.create(record)
      if (options.linkBy === 'registration') {
        // What a pairing would have stored, written through the product's own auth store; the
        // session then logs in with it like a linked session after a restart.
        const auth = await createDbAuthState(product.db, sessionId, {
          encryptionKey: config.AUTH_ENCRYPTION_KEY,
        })
        const creds = initAuthCreds()
        const preKeys = generatePreKeys(creds, REGISTERED_PRE_KEYS)
        applyRegistration(
          creds,
          await simCall<RegistrationAnswer>(
            `/accounts/${phone}/companions`,
            registrationBody(creds, preKeys),
          ),
        )
        await auth.state.keys.set({ 'pre-key': preKeys })
        Object.assign(auth.state.creds, creds)
        await auth.saveCreds()
        const open = statusOf(sessionId, (status) => status === 'open')
        await start()
        await open
        return
      }
      const code = nextEvent(
        (m) =>
          m.event === 'pairing-code' && m.payload.sessionId === sessionId ? m.payload.pairingCode : undefined,
        `the pairing code of ${sessionId}`,
      )
      const open = statusOf(sessionId, (status) => status === 'open')
      await start()
      await simCall(`/accounts/${phone}/pairing-code`, { code: await code })
      await open
      return
    }
    case 'unlinked-pairing': {
      await simCall('/accounts', { phone })
      await product.repos.sessions.create(record)
      const code = nextEvent(
        (m) => (m.event === 'pairing-code' && m.payload.sessionId === sessionId ? true : undefined),
        `the pairing code of ${sessionId}`,
      )
      await start()
      await code
      return
    }
    case 'unlinked-qr': {
      await product.repos.sessions.create({ ...record, authMethod: 'qrcode', phoneNumber: null })
      const qr = nextEvent(
        (m) => (m.event === 'qr-code' && m.payload.sessionId === sessionId ? true : undefined),
        `the QR code of ${sessionId}`,
      )
      await start()
      await qr
      return
    }
    case 'unreachable': {
      await product.repos.sessions.create(record)
      const failed = statusOf(sessionId, (status) => status === 'reconnecting')
      await start()
      await failed
      return
    }
  }
}

let created = 0
/** Grows run one after another, so a caller that lost its connection can ask again safely. */
let growing: Promise<unknown> = Promise.resolve()
const grow = (count: number, settleMs: number): Promise<void> => {
  const run = growing.then(async () => {
    if (count <= created) return
    let next = created
    const concurrency =
      options.kind !== 'linked'
        ? START_CONCURRENCY
        : options.linkBy === 'registration'
          ? REGISTERED_CONCURRENCY
          : LINK_CONCURRENCY
    const worker = async () => {
      while (next < count) await addSession(next++)
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    created = count
    await new Promise((resolve) => setTimeout(resolve, settleMs))
  })
  growing = run.catch(() => undefined)
  return run
}

const settledHeap = async (): Promise<number> => {
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

/** How late a 10 ms timer ran over the next `ms`: p50, p99 and max, in milliseconds. */
const eventLoopDelay = async (ms: number) => {
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS })
  delay.enable()
  await new Promise((resolve) => setTimeout(resolve, ms))
  delay.disable()
  // The histogram counts nanoseconds between two runs of its timer, the interval included.
  const late = (nanos: number) => Math.max(0, nanos / 1e6 - DELAY_RESOLUTION_MS)
  return {
    delayP50Ms: late(delay.percentile(50)),
    delayP99Ms: late(delay.percentile(99)),
    delayMaxMs: late(delay.max),
  }
}

const idle = async (ms: number) => {
  const heapUsed = await settledHeap()
  const rss = process.memoryUsage().rss
  return { heapUsed, rss, ...(await eventLoopDelay(ms)) }
}

/**
 * Timer callbacks run over the next `ms`, by the timer's period (`_idleTimeout`, in ms); those of
 * this window's own timer are left out. The hook also sees promises, so it costs while enabled.
 */
const timerWakes = async (ms: number) => {
  const byPeriod: Record<string, number> = {}
  let total = 0
  let window: unknown
  const hook = createHook({
    before() {
      const resource = executionAsyncResource() as { constructor?: { name?: string }; _idleTimeout?: number }
      if (resource === window || resource?.constructor?.name !== 'Timeout') return
      total++
      const period = String(resource._idleTimeout ?? '?')
      byPeriod[period] = (byPeriod[period] ?? 0) + 1
    },
  })
  hook.enable()
  await new Promise((resolve) => {
    window = setTimeout(resolve, ms)
  })
  hook.disable()
  return { total, byPeriod, ms }
}

/**
 * Runs one of the inspector's recorders over the next `ms` and writes what it returns to `file`:
 * a CPU profile (`Profiler`, open it in Chrome's DevTools or speedscope) or allocation sampling
 * (`HeapProfiler`, a `.heapprofile`: where what is still in the heap at the end was allocated,
 * garbage the last GCs did not reach included).
 */
const record = async (kind: 'cpu' | 'heap', ms: number, file: string) => {
  const session = new Session()
  session.connect()
  let stop: () => Promise<{ profile: unknown }>
  if (kind === 'cpu') {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    stop = () => session.post('Profiler.stop')
  } else {
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', { samplingInterval: 16_384 })
    stop = () => session.post('HeapProfiler.stopSampling')
  }
  await new Promise((resolve) => setTimeout(resolve, ms))
  const { profile } = await stop()
  session.disconnect()
  await writeFile(file, JSON.stringify(profile))
  return { file }
}

const states = async () => {
  const counts: Record<string, number> = {}
  for (const session of await product.repos.sessions.list())
    counts[session.state] = (counts[session.state] ?? 0) + 1
  return counts
}

const readBody = async (req: import('node:http').IncomingMessage): Promise<Record<string, number>> => {
  let text = ''
  for await (const chunk of req) text += chunk
  return text ? (JSON.parse(text) as Record<string, number>) : {}
}

const control = createServer((req, res) => {
  const answer = (work: Promise<unknown>) =>
    work.then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }))
      },
    )
  if (req.method === 'POST' && req.url === '/grow') {
    const started = performance.now()
    return answer(
      readBody(req).then(async ({ count = 0, settleMs = SETTLE_MS }) => {
        await grow(count, settleMs)
        return { sessions: created, seconds: (performance.now() - started) / 1000 }
      }),
    )
  }
  if (req.method === 'POST' && req.url === '/idle')
    return answer(readBody(req).then(({ ms = 5_000 }) => idle(ms)))
  if (req.method === 'POST' && req.url === '/delay')
    return answer(readBody(req).then(({ ms = 5_000 }) => eventLoopDelay(ms)))
  if (req.method === 'POST' && req.url === '/timers')
    return answer(readBody(req).then(({ ms = 5_000 }) => timerWakes(ms)))
  if (req.method === 'GET' && req.url === '/states') return answer(states())
  if (req.method === 'GET' && req.url === '/heap-spaces')
    return answer(Promise.resolve(getHeapSpaceStatistics()))
  if (req.method === 'GET' && req.url === '/cpu') {
    const { user, system } = process.cpuUsage()
    // This request counts too; it is one among thousands.
    return answer(Promise.resolve({ cpuMicros: user + system, requests, gc: structuredClone(gcTotals) }))
  }
  if (req.method === 'POST' && (req.url === '/profile' || req.url === '/heap-sample')) {
    const kind = req.url === '/profile' ? 'cpu' : 'heap'
    return answer(
      readBody(req).then((body) => record(kind, body.ms ?? 5_000, String((body as { file?: unknown }).file))),
    )
  }
  res.writeHead(404).end()
}).listen(0, '127.0.0.1')
await new Promise((resolve) => control.once('listening', resolve))

process.stdout.write(
  `${JSON.stringify({ url: product.url.replace('localhost', '127.0.0.1'), controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}` })}\n`,
)

const shutdown = () => {
  void (async () => {
    control.close()
    await product.stop()
    await rm(options.dataDir, { recursive: true, force: true })
  })().finally(() => process.exit(0))
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)
