/**
 * Failover time: a split deployment as real processes (`tests/support/split-processes.ts`: Redis,
 * s3rver, a shared libSQL file, the API and two connectors, each `embedded/main.ts`), one session
 * linked by QR through the API. Each run kills the connector holding it with SIGKILL and times
 * until the API reports the session connected on the other one; the killed connector is then
 * started again (same id), so the next run kills the other side. Lease expiry dominates: the
 * figure is reported with the SESSION_LEASE_MS it ran with.
 */
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { WaSimulator } from '../sim/server.js'
import { SplitProcesses } from '../support/split-processes.js'
import { bySize, emit, log, percentile, round } from './support/report.js'

const BENCH = 'failover'
const RUNS = bySize(5, 1)
const LEASE_MS = 3_000
const SESSION = 'failover-bench'
const OWNER = '15550073001'
/** How often the API is asked; the resolution of the figure. */
const POLL_MS = 20

interface ConnectionStatus {
  connected: boolean
  connectorId: string | null
  qrCode: string | null
}

const sim = await WaSimulator.start({ controlPort: false })
sim.createAccount({ phone: OWNER })
const deployment = await SplitProcesses.start({
  sim: { wsUrl: sim.wsUrl, uploadHost: sim.uploadHost, caCertPath: sim.caCertPath },
  env: { SESSION_LEASE_MS: String(LEASE_MS), LOG_LEVEL: 'warn' },
})

const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${deployment.apiUrl}${path}`, {
    method,
    headers: {
      'x-api-key': deployment.apiKey,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5_000),
  })
  const json = (await response.json()) as { data: T; error?: string }
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${json.error ?? ''}`)
  return json.data
}

const status = () => call<ConnectionStatus>('GET', `/api/sessions/${SESSION}/connection-status`)

/** Polls the API until `done` holds; returns when it did. */
const until = async (what: string, done: (s: ConnectionStatus) => boolean, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const current = await status().catch(() => null)
    if (current && done(current)) return current
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

const times: number[] = []
try {
  await call('POST', '/api/sessions', {
    sessionId: SESSION,
    sessionName: 'Failover bench',
    authMethod: 'qrcode',
  })
  const { qrCode } = await until('QR shown', (s) => s.qrCode !== null, 30_000)
  await sim.scanQr(decodeQrDataUrl(qrCode ?? ''), OWNER)
  let owner = (await until('linked', (s) => s.connected, 30_000)).connectorId ?? ''
  const devices = sim.linkedDevices(OWNER)

  for (let run = 1; run <= RUNS; run++) {
    const survivor = deployment.connectorIds.find((id) => id !== owner) ?? ''
    const killedAt = performance.now()
    await deployment.kill(owner, 'SIGKILL')
    await until('taken over', (s) => s.connected && s.connectorId === survivor, LEASE_MS + 20_000)
    const ms = performance.now() - killedAt
    times.push(ms)
    if (sim.linkedDevices(OWNER).join() !== devices.join()) throw new Error('the session was linked anew')
    log(`run ${run}: ${owner} killed → connected on ${survivor} after ${Math.round(ms)} ms`)
    await deployment.start(owner)
    owner = survivor
  }
  if (deployment.unexpectedExits().length) {
    throw new Error(`processes exited: ${JSON.stringify(deployment.unexpectedExits())}`)
  }
} catch (error) {
  deployment.printLogs()
  throw error
} finally {
  await deployment.stop()
  await sim.stop()
}

const sorted = [...times].sort((a, b) => a - b)
emit({
  bench: BENCH,
  metric: 'kill -9 → connected on the other connector p50',
  value: Math.round(percentile(sorted, 50)),
  unit: 'ms',
  note: `SESSION_LEASE_MS ${LEASE_MS}; ${RUNS} runs: ${sorted.map((ms) => Math.round(ms)).join(', ')} ms; no new QR`,
})
log(`p50 ${round(percentile(sorted, 50), 0)} ms over ${RUNS} runs (lease ${LEASE_MS} ms)`)
