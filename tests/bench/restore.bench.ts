/**
 * Restoring stored sessions at start: a DATA_DIR holding 1,000 linked sessions (rows in state
 * `open` with their own JID, and Baileys creds of a linked device: `me`, account details), then the
 * product as `npm start` runs it (`node dist/node/embedded/main.js`, built with `--if-stale`) with
 * the default SESSION_LOGINS_PER_SECOND. WA_WS_URL points at a counting TCP proxy in front of the
 * protocol simulator (its own process): every connection through it is one login WhatsApp sees.
 *
 * The simulator knows none of these devices (their creds were made here, not linked through it),
 * so it refuses each login after the Noise handshake, as WhatsApp refuses a device it has unlinked:
 * each session logs in exactly once and is then logged out. That is the full login path up to
 * WhatsApp's verdict, paced by the connector, without the pre-key upload an accepted first login
 * would add.
 *
 * Measures the most logins in any 1 s window (target ≤ 20/s, the default pace), and `GET
 * /api/health` answered every 20 ms from the first 200 until the last login: p99 latency and
 * failures (target 0). BENCH_RESTORE_SESSIONS sets the count (default 1,000; smoke 50).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDbAuthState } from '../../connector/auth/auth-state.js'
import { migrate } from '../../shared/db/migrations.js'
import { createRepositories } from '../../shared/db/repositories/index.js'
import { openDatabase } from '../../shared/node/db-client.js'
import { buildIfStale, freePort, spawnProduct, timeToHealthy } from './support/compiled-product.js'
import { BENCH_API_KEY, newSession } from './support/fixtures.js'
import { bySize, emit, log, percentile, round } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'restore'
const SESSIONS = Number(process.env.BENCH_RESTORE_SESSIONS ?? bySize(1_000, 50))
const LOGINS_PER_SECOND = 20
const HEALTH_EVERY_MS = 20
const HEALTH_TIMEOUT_MS = 5_000
/** Logins have ended when none came for this long after the last session's. */
const QUIET_MS = 2_000
/** Twice the time the pace needs, plus start-up: past it, the restore has stalled. */
const RESTORE_BUDGET_MS = (2 * SESSIONS * 1_000) / LOGINS_PER_SECOND + 30_000

const phoneOf = (index: number) => `1555${String(index).padStart(7, '0')}`

/** The DATA_DIR a previous run with `count` linked sessions would have left behind. */
const seedDataDir = async (count: number): Promise<string> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-restore-'))
  const client = await openDatabase(`file:${join(dataDir, 'tracker.db')}`)
  try {
    await migrate(client)
    const repos = createRepositories(client)
    for (let i = 0; i < count; i++) {
      const id = `restore${i}`
      const phone = phoneOf(i)
      await repos.sessions.create({
        ...newSession(id, phone),
        state: 'open',
        ownNumber: phone,
        ownJid: `${phone}@s.whatsapp.net`,
      })
      const auth = await createDbAuthState(client, id)
      auth.state.creds.me = { id: `${phone}:3@s.whatsapp.net`, name: `Bench ${i}` }
      auth.state.creds.account = {
        details: new Uint8Array([1]),
        accountSignatureKey: new Uint8Array(32),
        accountSignature: new Uint8Array(64),
        deviceSignature: new Uint8Array(64),
      }
      auth.state.creds.registered = true
      await auth.saveCreds()
    }
  } finally {
    client.close()
  }
  return dataDir
}

/** Forwards every connection to `target` and records when each was opened. */
const countingProxy = async (
  targetPort: number,
): Promise<{ server: Server; port: number; opened: number[] }> => {
  const opened: number[] = []
  const sockets = new Set<Socket>()
  const server = createServer((inbound) => {
    opened.push(performance.now())
    const outbound = tcpConnect(targetPort, '127.0.0.1')
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {
        inbound.destroy()
        outbound.destroy()
      })
    }
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  server.on('close', () => {
    for (const socket of sockets) socket.destroy()
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { server, port, opened }
}

/** The most entries of an ascending list of times (ms) inside any window of `windowMs`. */
const busiestWindow = (times: number[], windowMs: number): number => {
  let most = 0
  let from = 0
  for (let to = 0; to < times.length; to++) {
    while ((times[to] as number) - (times[from] as number) >= windowMs) from++
    most = Math.max(most, to - from + 1)
  }
  return most
}

const buildStarted = performance.now()
await buildIfStale()
log(`build --if-stale: ${Math.round(performance.now() - buildStarted)} ms`)
const seedStarted = performance.now()
const dataDir = await seedDataDir(SESSIONS)
log(`${SESSIONS} linked sessions stored in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`)

const sim = await SimulatorProcess.start()
const simPort = Number(new URL(sim.info.wsUrl).port)
const proxy = await countingProxy(simPort)
const product = await spawnProduct({
  DATA_DIR: dataDir,
  API_KEY: BENCH_API_KEY,
  WA_WS_URL: `ws://127.0.0.1:${proxy.port}/ws/chat`,
})

try {
  const healthyMs = await timeToHealthy(product, 60_000)
  log(`healthy ${Math.round(healthyMs)} ms after spawn; ${proxy.opened.length} logins so far`)

  const latencies: number[] = []
  let failed = 0
  const restoreStarted = performance.now()
  const done = () => {
    const last = proxy.opened.at(-1)
    if (proxy.opened.length >= SESSIONS && last !== undefined && performance.now() - last > QUIET_MS)
      return true
    return performance.now() - restoreStarted > RESTORE_BUDGET_MS
  }
  let nextLog = restoreStarted + 5_000
  while (!done()) {
    const asked = performance.now()
    const ok = await fetch(`${product.url}/api/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
      .then(async (response) => {
        await response.arrayBuffer()
        return response.status === 200
      })
      .catch(() => false)
    const answeredAt = performance.now()
    if (ok) latencies.push(answeredAt - asked)
    else failed++
    if (answeredAt > nextLog) {
      log(
        `${proxy.opened.length}/${SESSIONS} logins after ${((answeredAt - restoreStarted) / 1000).toFixed(0)} s`,
      )
      nextLog += 5_000
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, HEALTH_EVERY_MS - (answeredAt - asked))))
  }
  if (product.child.exitCode !== null) throw new Error(`the product exited:\n${product.output()}`)

  const states = await fetch(`${product.url}/api/sessions`, { headers: { 'x-api-key': BENCH_API_KEY } })
    .then((response) => response.json() as Promise<{ data: { status: string }[] }>)
    .then(({ data }) => {
      const count: Record<string, number> = {}
      for (const { status } of data) count[status] = (count[status] ?? 0) + 1
      return count
    })
  const logins = proxy.opened
  const spanS = ((logins.at(-1) ?? 0) - (logins[0] ?? 0)) / 1000
  const busiest = busiestWindow(logins, 1_000)
  latencies.sort((a, b) => a - b)
  const checks = latencies.length + failed
  log(
    `${logins.length} logins over ${spanS.toFixed(1)} s, busiest second ${busiest}; states ${JSON.stringify(states)}`,
  )

  emit({
    bench: BENCH,
    metric: `most logins WhatsApp saw in any 1 s, ${SESSIONS} sessions`,
    value: busiest,
    unit: '/s',
    target: { kind: 'max', value: LOGINS_PER_SECOND },
    note: `${logins.length} logins over ${round(spanS, 1)} s (${round((logins.length - 1) / Math.max(spanS, 0.001), 1)}/s); simulator refused each (unknown device), end states ${JSON.stringify(states)}`,
  })
  emit({
    bench: BENCH,
    metric: `sessions that logged in during the restore`,
    value: logins.length,
    unit: 'logins',
    target: { kind: 'min', value: SESSIONS },
    note: `${SESSIONS} stored linked sessions; ${((performance.now() - product.spawnedAt) / 1000).toFixed(0)} s from spawn`,
  })
  emit({
    bench: BENCH,
    metric: `spawn → first 200 /api/health, ${SESSIONS} stored sessions`,
    value: Math.round(healthyMs),
    unit: 'ms',
    note: 'sessions are queued for login, not awaited',
  })
  emit({
    bench: BENCH,
    metric: 'GET /api/health p99 during the restore',
    value: round(percentile(latencies, 99), 1),
    unit: 'ms',
    note: `p50 ${round(percentile(latencies, 50), 1)} ms, max ${round(latencies.at(-1) ?? 0, 1)} ms, ${checks} checks every ${HEALTH_EVERY_MS} ms`,
  })
  emit({
    bench: BENCH,
    metric: 'GET /api/health failures during the restore',
    value: failed,
    unit: 'failed',
    target: { kind: 'max', value: 0 },
    note: `${round((100 * latencies.length) / Math.max(1, checks), 2)} % of ${checks} answered 200 within ${HEALTH_TIMEOUT_MS / 1000} s`,
  })
} finally {
  await product.stop()
  await new Promise((resolve) => proxy.server.close(resolve))
  await sim.stop()
  await rm(dataDir, { recursive: true, force: true })
}
