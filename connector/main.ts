import { ConfigError, loadConfig } from '../shared/config.js'
import { startEmbedded } from './embedded.js'
import { createLogger } from './logger.js'

/** `npm start`: the embedded product. Exits non-zero with the offending variable on a bad config. */
const main = async () => {
  // Before anything creates a file: every file this process makes (the database and the -wal/-shm
  // files SQLite adds, media, temp files, whatever a library writes) is then owner-only. The data
  // folder holds credentials, so this covers files created by code that sets no mode of its own;
  // the places that create data files also set 0600/0700 explicitly, for processes that embed
  // startEmbedded without this entry (tests), and existing files are tightened at start.
  process.umask(0o077)
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
    // Named relative to DATA_DIR: start-up lines end up in logs, where absolute paths do not belong.
    console.log('API key: stored in DATA_DIR/api-key')
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
