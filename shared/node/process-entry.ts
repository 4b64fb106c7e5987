import { type Config, ConfigError, loadConfig } from '../config.js'
import { createLogger, type Logger } from './logger.js'
import { applyV8Flags } from './v8-tuning.js'

export interface RunningProcess {
  /** Ordered shutdown; the process exits when it resolves. */
  stop(): Promise<void>
}

/** Longest a graceful shutdown may take before the process exits anyway. */
const FORCE_EXIT_MS = 15_000

/**
 * What every Node entry (`npm start` in each ROLE) does around its own start: the V8 flags
 * (shared/node/v8-tuning.ts), a restrictive umask, the config (a bad one stops the process, naming
 * the variable), the logger, SIGTERM/SIGINT for an ordered shutdown, and no exit on a stray
 * rejection (it is logged; every session goes on).
 */
export const runProcess = (start: (config: Config, logger: Logger) => Promise<RunningProcess>): void => {
  applyV8Flags()
  // Before anything creates a file: what this process writes (a local database and the -wal/-shm
  // files SQLite adds, media, temp files, whatever a library writes) is then owner-only. The places
  // that create data files also set 0600/0700 explicitly, for code that runs without this entry.
  process.umask(0o077)
  // The pinned AWS SDK runs on Node 20; its notice about future releases is not for operators.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

  let config: Config
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
  // A stray rejection must not take every session down with it; it is logged and the process goes on.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'))

  // Installed before the start, so a signal that comes while the process is still starting (a
  // deploy that changes its mind, a test that stops it the moment it printed its address) is not
  // met by Node's default handler, which would kill it without the ordered shutdown.
  let running: RunningProcess | null = null
  let signalled: string | null = null
  let shuttingDown = false
  const shutdown = (signal: string) => {
    if (shuttingDown) return
    shuttingDown = true
    logger.info({ signal }, 'shutting down')
    setTimeout(() => process.exit(1), FORCE_EXIT_MS).unref()
    ;(running ? running.stop() : Promise.resolve()).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  const onSignal = (signal: string) => {
    if (running) shutdown(signal)
    else signalled ??= signal
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))

  start(config, logger).then(
    (started) => {
      running = started
      if (signalled) shutdown(signalled)
    },
    (error: unknown) => {
      console.error('Failed to start:', error instanceof Error ? error.message : error)
      process.exit(1)
    },
  )
}
