/**
 * One product instance of the HTTP bench in a process of its own, for the profiler:
 *
 *   node --cpu-prof --import tsx tests/bench/support/http-server-main.ts <embedded|split> <empty|realistic>
 *
 * Prints `{ url, ids }` as one JSON line once it listens; stops cleanly (so `--cpu-prof` writes
 * its profile) when stdin closes or on SIGTERM. A `mark` line on stdin is answered with the
 * process's monotonic clock in µs (the clock of the profile's timestamps), so the profiler can
 * keep the samples of the measured window only, without start-up and module loading.
 */
import { createInterface } from 'node:readline'
import { applyV8Flags } from '../../../shared/node/v8-tuning.js'
import {
  EMPTY,
  type HttpProduct,
  REALISTIC,
  type SplitInfra,
  startEmbeddedProduct,
  startSplitApi,
  startSplitInfra,
} from './http-products.js'

// The product runs with these flags (shared/node/process-entry.ts).
applyV8Flags()

const [mode = 'embedded', dataName = 'empty'] = process.argv.slice(2)
const data = dataName === 'realistic' ? REALISTIC : EMPTY

let infra: SplitInfra | null = null
let product: HttpProduct
if (mode === 'split') {
  infra = await startSplitInfra()
  product = await startSplitApi(infra, data)
} else {
  product = await startEmbeddedProduct(data)
}
process.stdout.write(`${JSON.stringify({ url: product.url, ids: product.ids })}\n`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await product.stop()
  await infra?.stop()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
const commands = createInterface({ input: process.stdin })
commands.on('line', (line) => {
  if (line.trim() === 'mark') process.stdout.write(`${Number(process.hrtime.bigint() / 1000n)}\n`)
})
commands.on('close', () => void stop())
