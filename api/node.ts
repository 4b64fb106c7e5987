import packageJson from '../package.json' with { type: 'json' }
import { RedisCommandClient, RedisEventPublisher } from '../shared/bus/redis-command-client.js'
import type { Config } from '../shared/config.js'
import { SPLIT_MAX_AGE_MS, withReadModel } from '../shared/db/read-model.js'
import { createHealthProbe } from '../shared/health.js'
import { ProductMetrics } from '../shared/metrics.js'
import { loadDashboardAssets } from '../shared/node/dashboard-assets.js'
import { listen } from '../shared/node/http-server.js'
import { isMainModule } from '../shared/node/is-main.js'
import type { Logger } from '../shared/node/logger.js'
import { type RunningProcess, runProcess } from '../shared/node/process-entry.js'
import { SocketGateway } from '../shared/node/socket-gateway.js'
import { openDataStore, openRedisCommands } from '../shared/node/stores.js'
import { rateLimiterFromConfig } from '../shared/security/rate-limit.js'
import { RedisRateLimiter } from '../shared/security/redis-rate-limit.js'
import { S3MediaStore, s3StoreOptions } from '../shared/storage/s3.js'
import { createApp } from './app.js'
import { nodeApiKeyMatcher } from './node/api-key-matcher.js'
import { nodeHostResolver } from './node/host-resolver.js'
import { nodePeerAddress } from './node/peer-address.js'

/**
 * `ROLE=api`: the stateless HTTP API alone on Node. Data in libSQL, media in S3, commands to the
 * connectors over Redis (TCP, or the Upstash REST API), and Socket.IO on the same port as a member
 * of the connectors' cluster (that part needs REDIS_URL). Any number of these can run side by side.
 */
export interface ApiProcess extends RunningProcess {
  /** The port it listens on (PORT, or the one picked for PORT=0). */
  port: number
}

export const startApi = async (config: Config, logger: Logger): Promise<ApiProcess> => {
  const startedAt = Date.now()
  const apiKey = config.API_KEY ?? ''
  const store = await openDataStore(config.LIBSQL_URL ?? '', config, logger)
  const db = store.db
  // Connectors write sessions this process never sees: the list is kept a moment at most.
  const repos = withReadModel(store.repos, {
    consistency: 'bounded',
    maxAgeMs: SPLIT_MAX_AGE_MS,
  })
  const media = new S3MediaStore(s3StoreOptions(config))
  const redis = await openRedisCommands(config)
  if (!redis) throw new Error('REDIS_URL or UPSTASH_REDIS_REST_URL is required when ROLE is api')

  const rateLimiter = new RedisRateLimiter(redis, {
    limits: { keyed: config.RATE_LIMIT_MAX, anonymous: config.RATE_LIMIT_ANON_MAX },
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    clock: Date.now,
    fallback: rateLimiterFromConfig(config),
    onFallback: (active) =>
      active
        ? logger.warn({}, 'Redis unreachable: rate limits are counted per API instance until it is back')
        : logger.info({}, 'Redis reachable again: rate limits are shared again'),
  })
  const dashboard = config.DASHBOARD ? await loadDashboardAssets() : null
  const app = createApp({
    metrics: new ProductMetrics(),
    config,
    repos,
    commands: new RedisCommandClient(redis),
    events: new RedisEventPublisher(redis),
    media,
    health: createHealthProbe({ db, media, redis, connectors: 'cluster' }),
    peerAddress: nodePeerAddress,
    apiKey,
    apiKeyMatcher: nodeApiKeyMatcher(apiKey),
    version: packageJson.version,
    startedAt,
    logger,
    resolveHost: nodeHostResolver,
    rateLimiter,
    ...(dashboard ? { dashboard } : {}),
  })

  const http = await listen(app.fetch, config, app.fastReads)
  const gateway = config.REDIS_URL
    ? new SocketGateway(http.server, apiKey, {
        rateLimiter,
        trustProxy: config.TRUST_PROXY,
        redisUrl: config.REDIS_URL,
        scopedKeys: app.scopedKeys,
      })
    : null
  if (!gateway) {
    logger.warn(
      {},
      'no REDIS_URL: Socket.IO is served by the connectors only (joining their cluster needs a TCP connection to Redis)',
    )
  }
  http.guard()
  await gateway?.start()
  logger.info({ port: http.port }, 'API listening')

  return {
    port: http.port,
    async stop() {
      await gateway?.stop()
      await http.close()
      await redis.close()
      media.close()
      db.close()
    },
  }
}

if (isMainModule(import.meta.url)) runProcess(startApi)
