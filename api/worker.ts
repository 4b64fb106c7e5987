import { createClient } from '@libsql/client/web'
import type { ExecutionContext } from 'hono'
import packageJson from '../package.json' with { type: 'json' }
import { RedisCommandClient, RedisEventPublisher } from '../shared/bus/redis-command-client.js'
import { type Config, ConfigError, loadConfig } from '../shared/config.js'
import { SPLIT_MAX_AGE_MS, withReadModel } from '../shared/db/read-model.js'
import { createRepositories } from '../shared/db/repositories/index.js'
import { Messages } from '../shared/errors.js'
import { createHealthProbe } from '../shared/health.js'
import { upstashCommands } from '../shared/redis/upstash.js'
import { rateLimiterFromConfig } from '../shared/security/rate-limit.js'
import { RedisRateLimiter } from '../shared/security/redis-rate-limit.js'
import { S3MediaStore, s3StoreOptions } from '../shared/storage/s3.js'
import { createApp } from './app.js'
import { errorBody } from './errors.js'
import { edgePeerAddress } from './middleware/client-address.js'
import type { App, AppLogger } from './types.js'

/**
 * The stateless API on Cloudflare Workers: the same `createApp` as `ROLE=api` on Node, built once
 * per isolate from the bindings. Data in a libSQL server over HTTP, commands and the shared rate
 * limit in Redis over the Upstash REST API, media in S3. There is no Socket.IO here (no long-lived
 * server): clients attach to the connectors, which relay the events this API publishes.
 */

/** Bindings: `[vars]` and secrets arrive as strings; anything else (none expected) is ignored. */
export type WorkerEnv = Record<string, unknown>

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

/**
 * Console logger for Workers (`wrangler tail` and Workers Logs read console output). Errors are cut
 * to type, message and code below debug, as on Node, so no stack reaches the log.
 */
const consoleLogger = (level: Config['LOG_LEVEL']): AppLogger => {
  const threshold = level === 'silent' ? Number.POSITIVE_INFINITY : LEVELS.indexOf(level)
  const verbose = threshold <= LEVELS.indexOf('debug')
  const brief = (value: unknown) => {
    if (!(value instanceof Error)) return value
    const code = (value as { code?: unknown }).code
    return {
      type: value.constructor?.name ?? value.name,
      message: value.message,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(verbose && value.stack ? { stack: value.stack } : {}),
    }
  }
  const write =
    (name: 'info' | 'warn' | 'error', sink: (line: string) => void) =>
    (data: Record<string, unknown>, message?: string) => {
      if (LEVELS.indexOf(name) < threshold) return
      const entry = 'err' in data ? { ...data, err: brief(data.err) } : data
      sink(JSON.stringify({ level: name, time: Date.now(), ...entry, ...(message ? { msg: message } : {}) }))
    }
  return {
    info: write('info', (line) => console.log(line)),
    warn: write('warn', (line) => console.warn(line)),
    error: write('error', (line) => console.error(line)),
  }
}

/** URL schemes `@libsql/client/web` can reach from a Worker (no local files, no TCP). */
const REMOTE_LIBSQL = /^(libsql|https?|wss?):\/\//i

/** What a Worker needs beyond what `loadConfig` checks for `ROLE=api` on any runtime. */
const workerChecks = (config: Config): { variable: string; message: string }[] => {
  const issues: { variable: string; message: string }[] = []
  if (config.LIBSQL_URL && !REMOTE_LIBSQL.test(config.LIBSQL_URL)) {
    issues.push({
      variable: 'LIBSQL_URL',
      message: 'must be a libsql://, https:// or http:// URL on Workers (no local files)',
    })
  }
  if (!config.UPSTASH_REDIS_REST_URL) {
    issues.push({
      variable: 'UPSTASH_REDIS_REST_URL',
      message: 'is required on Workers (Redis is reached over its REST API, not TCP)',
    })
  }
  return issues
}

/** Reads the bindings as the config loader reads the environment of a Node process. */
export const workerConfig = (env: WorkerEnv): Config => {
  const vars: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') vars[name] = value
  const config = loadConfig({ ...vars, ROLE: 'api' })
  const issues = workerChecks(config)
  if (issues.length) throw new ConfigError(issues)
  return config
}

const buildApp = (env: WorkerEnv): App => {
  const startedAt = Date.now()
  const config = workerConfig(env)
  const logger = consoleLogger(config.LOG_LEVEL)
  // Migrations are applied by the Node processes (connectors open the database at start), so an
  // isolate never takes the schema lock on its cold start.
  const db = createClient({
    url: config.LIBSQL_URL ?? '',
    ...(config.LIBSQL_AUTH_TOKEN ? { authToken: config.LIBSQL_AUTH_TOKEN } : {}),
  })
  const redis = upstashCommands({
    url: config.UPSTASH_REDIS_REST_URL ?? '',
    token: config.UPSTASH_REDIS_REST_TOKEN ?? '',
  })
  const media = new S3MediaStore(s3StoreOptions(config))
  const rateLimiter = new RedisRateLimiter(redis, {
    limits: { keyed: config.RATE_LIMIT_MAX, anonymous: config.RATE_LIMIT_ANON_MAX },
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    clock: Date.now,
    fallback: rateLimiterFromConfig(config),
    onFallback: (active) =>
      active
        ? logger.warn({}, 'Redis unreachable: rate limits are counted per isolate until it is back')
        : logger.info({}, 'Redis reachable again: rate limits are shared again'),
  })
  return createApp({
    config,
    // Per isolate; connectors write sessions it never sees, so the list is kept a moment at most.
    repos: withReadModel(createRepositories(db), {
      consistency: 'bounded',
      maxAgeMs: SPLIT_MAX_AGE_MS,
    }),
    commands: new RedisCommandClient(redis),
    events: new RedisEventPublisher(redis),
    media,
    health: createHealthProbe({ db, media, redis, connectors: 'cluster' }),
    peerAddress: edgePeerAddress,
    apiKey: config.API_KEY ?? '',
    version: packageJson.version,
    startedAt,
    logger,
    // No resolveHost: Workers has no DNS resolver. A URL status is checked by its literal host here
    // (createApp notes that once per isolate, never per request), and the connector checks every
    // address it connects to when it downloads the media.
    rateLimiter,
  })
}

const configErrorResponse = (error: ConfigError) => Response.json(errorBody(error.message), { status: 500 })

/**
 * One app per isolate, built on the first request (bindings arrive only with a request). A bad
 * config stays bad until the next deploy, which starts new isolates, so its answer is kept too.
 */
let built: App | ConfigError | null = null

const appFor = (env: WorkerEnv): App | ConfigError => {
  if (!built) {
    try {
      built = buildApp(env)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      built = error
    }
  }
  return built
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let app: App | ConfigError
    try {
      app = appFor(env)
    } catch (error) {
      // Not a config problem (those name their variable): the log says what, the client learns nothing.
      const err =
        error instanceof Error ? { type: error.name, message: error.message } : { type: typeof error }
      console.error(JSON.stringify({ level: 'error', time: Date.now(), err, msg: 'worker setup failed' }))
      return Response.json(errorBody(Messages.internal), { status: 500 })
    }
    if (app instanceof ConfigError) return configErrorResponse(app)
    return app.fetch(request, env, ctx)
  },
}
