import { ConfigError, loadConfig } from '../shared/config.js'
import { startEmbedded } from './embedded.js'
import { createLogger } from './logger.js'

/** `npm start`: the embedded product. Exits non-zero with the offending variable on a bad config. */
const main = async () => {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const issue of error.issues)
        console.error(`Invalid configuration: ${issue.variable}: ${issue.message}`)
      process.exit(1)
    }
    throw error
  }
  const logger = createLogger(config.LOG_LEVEL)
  const server = await startEmbedded({ config, logger })

  logger.info({ url: server.url }, 'WhatsApp Status Tracker is listening')
  if (server.apiKey.source === 'generated') {
    // Printed once, on the run that created it; later runs read it from the file.
    console.log(`\nAPI key (generated, stored in ${server.apiKey.path}): ${server.apiKey.key}\n`)
  } else if (server.apiKey.source === 'file') {
    console.log(`API key: stored in ${server.apiKey.path}`)
  }
  console.log(`REST API: ${server.url}/api  ·  docs: ${server.url}/docs  ·  Socket.IO: ${server.url}`)

  let shuttingDown = false
  const shutdown = (signal: string) => {
    if (shuttingDown) return
    shuttingDown = true
    logger.info({ signal }, 'shutting down')
    const force = setTimeout(() => process.exit(1), 15_000)
    force.unref()
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // A stray rejection must not take every session down with it; it is logged and the process goes on.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'))
}

main().catch((error: unknown) => {
  console.error('Failed to start:', error instanceof Error ? error.message : error)
  process.exit(1)
})
