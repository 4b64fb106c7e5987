/**
 * Starts the WhatsApp protocol simulator for demos and manual runs:
 *
 *   npx tsx tests/sim/main.ts [--port N] [--media-port N] [--control-port N] [--account PHONE]...
 *
 * Prints one JSON line with `wsUrl`, `uploadHost`, `caCertPath` and `controlUrl`. Point clients at
 * `wsUrl` and start them with NODE_EXTRA_CA_CERTS=<caCertPath> so media uploads are trusted.
 */
import { parseArgs } from 'node:util'
import { WaSimulator } from './server.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'media-port': { type: 'string', default: '0' },
    'control-port': { type: 'string', default: '0' },
    account: { type: 'string', multiple: true, default: [] },
  },
})

const sim = await WaSimulator.start({
  port: Number(values.port),
  mediaPort: Number(values['media-port']),
  controlPort: Number(values['control-port']),
})
for (const phone of values.account) sim.createAccount({ phone })
process.stdout.write(
  `${JSON.stringify({ wsUrl: sim.wsUrl, uploadHost: sim.uploadHost, caCertPath: sim.caCertPath, controlUrl: sim.controlUrl })}\n`,
)

const shutdown = () => {
  void sim.stop().finally(() => process.exit(0))
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
