/**
 * `npm run demo`: the real product, wired to the WhatsApp protocol simulator, so the whole path
 * (link, post, views) can be tried without a phone. Nothing here contacts WhatsApp.
 *
 *   PORT             product port (default 3000; 0 = any free port)
 *   DEMO_PHONE_PORT  the simulated phone's control URL port (default 3001; 0 = any)
 *   DEMO_DATA_DIR    the demo's own data folder, emptied on every start (default ./data/demo)
 *
 * The simulator runs in this process; the product runs as a child process (product-process.ts).
 * Ctrl-C stops the product first, then the simulator.
 */
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { installSignalConsoleGuard } from '../../connector/signal-console-guard.js'
import { WaSimulator } from '../sim/server.js'
import { createCast, YOUR_PHONE } from './cast.js'
import { resetDemoDataDir } from './data-dir.js'
import { renderInstructions } from './instructions.js'
import { startPhoneServer } from './phone-server.js'
import { productEnv, resolvePort, spawnProduct } from './product-process.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** Resources to release on the way out, the last started first. */
const cleanups: (() => Promise<void>)[] = []
let stopping = false

const stop = async (exitCode: number) => {
  if (stopping) return
  stopping = true
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((error: unknown) => console.error('demo: cleanup failed:', describe(error)))
  }
  console.log('Demo stopped.')
  process.exit(exitCode)
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

// Ctrl-C reaches the product too (same process group); stopping it again is harmless.
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

const main = async () => {
  // The simulated devices use libsignal too, which prints session keys to the console.
  installSignalConsoleGuard()
  const dataDir = await resetDemoDataDir(process.env.DEMO_DATA_DIR || './data/demo')
  const port = await resolvePort(process.env.PORT)

  const sim = await WaSimulator.start({ controlPort: 0 })
  cleanups.push(() => sim.stop())
  createCast(sim)
  console.log('demo: WhatsApp simulator started; starting the product…')

  const product = spawnProduct({
    repoRoot,
    env: productEnv(process.env, { port, dataDir, sim }),
    port,
    dataDir,
    onOutput: (line) => console.log(`[product] ${line}`),
  })
  cleanups.push(() => product.stop())
  const apiKey = await product.ready
  void product.exited.then((code) => {
    if (stopping) return
    console.error(`demo: the product stopped (${code}); stopping the demo.`)
    void stop(1)
  })

  const phone = await startPhoneServer({
    sim,
    port: Number(process.env.DEMO_PHONE_PORT || 3001),
    product: { url: product.url, apiKey },
    defaultPhone: YOUR_PHONE.phone,
  })
  cleanups.push(() => phone.close())

  if (stopping) return
  console.log(`\n${renderInstructions({ productUrl: product.url, apiKey, phoneUrl: phone.url, dataDir })}`)
}

main().catch((error: unknown) => {
  if (stopping) return // a failure caused by the stop itself (Ctrl-C during start-up)
  console.error(`demo: could not start: ${describe(error)}`)
  void stop(1)
})
