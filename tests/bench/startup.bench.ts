/**
 * Start-up of the product as users run it: `npm start` compiles when sources changed (`node
 * infra/build.mjs --if-stale`, done once here, untimed) and runs `node dist/node/embedded/main.js`.
 * Each start gets a fresh DATA_DIR (first run: directory set-up, migrations, a generated API key), a
 * free PORT and WA_WS_URL on a closed port (0 sessions: nothing dials it). Measures:
 *  - spawn → first 200 from `GET /api/health` (polled every 5 ms);
 *  - resident set size (VmRSS) once settled, beside a bare Baileys process (support/bare-baileys.mjs:
 *    Baileys loaded, one socket with in-memory auth against the same kind of closed port, a
 *    node:http server) started and read the same way in the same run; the ratio is the figure.
 * Product and bare starts alternate, median of 3 each.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  buildIfStale,
  median,
  type NodeProcess,
  refusedWsUrl,
  rssBytes,
  spawnNode,
  spawnProduct,
  timeToHealthy,
} from './support/compiled-product.js'
import { bySize, emit, log, round } from './support/report.js'

const BENCH = 'start-up'
const STARTS = bySize(3, 1)
/** Time after the first healthy answer before RSS is read: lazy work and the first GCs are done. */
const SETTLE_MS = bySize(5_000, 1_000)
const HEALTHY_TIMEOUT_MS = 30_000
const MB = 1024 * 1024
const BARE_SCRIPT = fileURLToPath(new URL('./support/bare-baileys.mjs', import.meta.url))

interface Reading {
  healthyMs: number
  rss: number
}

const measure = async (start: () => Promise<NodeProcess>): Promise<Reading> => {
  const proc = await start()
  try {
    const healthyMs = await timeToHealthy(proc, HEALTHY_TIMEOUT_MS)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    if (proc.child.exitCode !== null) throw new Error(`exited while idle:\n${proc.output()}`)
    return { healthyMs, rss: await rssBytes(proc.pid) }
  } finally {
    await proc.stop()
  }
}

const startProduct = async (): Promise<NodeProcess> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-startup-'))
  const proc = await spawnProduct({ DATA_DIR: dataDir, WA_WS_URL: await refusedWsUrl() })
  proc.child.once('exit', () => void rm(dataDir, { recursive: true, force: true }))
  return proc
}

const startBare = async (): Promise<NodeProcess> =>
  spawnNode(BARE_SCRIPT, { WA_WS_URL: await refusedWsUrl() })

const buildStarted = performance.now()
await buildIfStale()
log(`build --if-stale: ${Math.round(performance.now() - buildStarted)} ms`)

const product: Reading[] = []
const bare: Reading[] = []
for (let i = 1; i <= STARTS; i++) {
  const p = await measure(startProduct)
  product.push(p)
  const b = await measure(startBare)
  bare.push(b)
  log(
    `start ${i}: product healthy after ${Math.round(p.healthyMs)} ms, rss ${(p.rss / MB).toFixed(1)} MB; ` +
      `bare Baileys after ${Math.round(b.healthyMs)} ms, rss ${(b.rss / MB).toFixed(1)} MB`,
  )
}

const productMs = median(product.map((r) => r.healthyMs))
const bareMs = median(bare.map((r) => r.healthyMs))
const productRss = median(product.map((r) => r.rss)) / MB
const bareRss = median(bare.map((r) => r.rss)) / MB
const list = (readings: Reading[], value: (r: Reading) => number) =>
  readings.map((r) => Math.round(value(r))).join(', ')

emit({
  bench: BENCH,
  metric: 'spawn → first 200 /api/health, 0 sessions',
  value: Math.round(productMs),
  unit: 'ms',
  target: { kind: 'max', value: 2_000 },
  baseline: { label: 'bare Baileys', value: Math.round(bareMs), unit: 'ms' },
  note: `median of ${STARTS}: ${list(product, (r) => r.healthyMs)} ms; fresh DATA_DIR each (migrations, key generated)`,
})
emit({
  bench: BENCH,
  metric: 'idle RSS ÷ bare Baileys',
  value: round(productRss / bareRss, 2),
  unit: '×',
  target: { kind: 'max', value: 1.3 },
  baseline: { label: 'bare Baileys RSS', value: round(bareRss, 1), unit: 'MB' },
  note: `product ${round(productRss, 1)} MB (${list(product, (r) => r.rss / MB)}), bare ${list(bare, (r) => r.rss / MB)} MB; ${SETTLE_MS / 1000} s after healthy`,
})
