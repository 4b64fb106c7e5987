import type { Config } from '../shared/config.js'
import type { Logger } from '../shared/node/logger.js'
import { type RunningProcess, runProcess } from '../shared/node/process-entry.js'
import { startEmbedded } from './embedded.js'

/** The embedded product: prints where it listens and, on the run that created it, the API key. */
const startEmbeddedProcess = async (config: Config, logger: Logger): Promise<RunningProcess> => {
  const server = await startEmbedded({ config, logger })
  logger.info({ url: server.url }, 'WhatsApp Status Tracker is listening')
  if (server.apiKey.source === 'generated') {
    // Printed once, on the run that created it; later runs read it from the file.
    console.log(`\nAPI key (generated, stored in ${server.apiKey.path}): ${server.apiKey.key}\n`)
  } else if (server.apiKey.source === 'file') {
    // Named relative to DATA_DIR: start-up lines end up in logs, where absolute paths do not belong.
    console.log('API key: stored in DATA_DIR/api-key')
  }
  console.log(
    `Dashboard: ${server.url}/  ·  REST API: ${server.url}/api  ·  docs: ${server.url}/docs  ·  Socket.IO: ${server.url}`,
  )
  return server
}

/**
 * `npm start`. Without ROLE the embedded product (everything in this process, zero config);
 * `ROLE=api` the stateless API alone, `ROLE=connector` one connector (split deployment). A bad
 * config stops the process with a message naming the variable.
 */
runProcess(async (config, logger) => {
  switch (config.ROLE) {
    case 'api':
      return (await import('../api/node.js')).startApi(config, logger)
    case 'connector':
      return (await import('../connector/main.js')).startConnector(config, logger)
    default:
      return startEmbeddedProcess(config, logger)
  }
})
