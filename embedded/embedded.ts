import { join, resolve } from 'node:path'
import type { Client } from '@libsql/client'
import { createApp } from '../api/app.js'
import { nodeApiKeyMatcher } from '../api/node/api-key-matcher.js'
import { nodeHostResolver } from '../api/node/host-resolver.js'
import { nodePeerAddress } from '../api/node/peer-address.js'
import { Connector, type ConnectorDeps } from '../connector/connector.js'
import packageJson from '../package.json' with { type: 'json' }
import { InProcessBus } from '../shared/bus/in-process.js'
import type { Config } from '../shared/config.js'
import type { Repositories } from '../shared/db/index.js'
import { withReadModel } from '../shared/db/read-model.js'
import { createHealthProbe } from '../shared/health.js'
import { ProductMetrics } from '../shared/metrics.js'
import { loadDashboardAssets } from '../shared/node/dashboard-assets.js'
import { localFilePath } from '../shared/node/db-client.js'
import { listen } from '../shared/node/http-server.js'
import type { Logger } from '../shared/node/logger.js'
import { SocketGateway } from '../shared/node/socket-gateway.js'
import { openDataStore, openMediaStore, openRedisCommands } from '../shared/node/stores.js'
import { rateLimiterFromConfig } from '../shared/security/rate-limit.js'
import { RedisRateLimiter } from '../shared/security/redis-rate-limit.js'
import { uploadLinkSecretFromApiKey } from '../shared/storage/upload-signature.js'
import { type ResolvedApiKey, resolveApiKey } from './api-key-file.js'
import { secureDataDir } from './data-dir.js'

export interface EmbeddedOptions {
  config: Config
  logger: Logger
  /** Connector overrides for tests (socket double, fast backoff). */
  connector?: Partial<Pick<ConnectorDeps, 'socketFactory' | 'backoff' | 'ingest' | 'fetchUrlMedia'>>
}

export interface EmbeddedServer {
  url: string
  port: number
  apiKey: ResolvedApiKey
  repos: Repositories
  db: Client
  bus: InProcessBus
  connector: Connector
  stop(): Promise<void>
}

/**
 * The whole product in one process: libSQL file, local media folder (or S3 when configured),
 * in-process bus, the connector, and REST + Socket.IO on one port. `npm start`, the demo and the
 * embedded-mode tests all start it here; it is the one place that wires the API and a connector
 * together.
 */
export const startEmbedded = async ({
  config,
  logger,
  connector: overrides,
}: EmbeddedOptions): Promise<EmbeddedServer> => {
  const startedAt = Date.now()
  const dataDir = resolve(config.DATA_DIR)
  const databaseUrl = config.LIBSQL_URL ?? `file:${join(dataDir, 'tracker.db')}`
  const mediaDir = join(dataDir, 'media')
  await secureDataDir({ dataDir, databasePath: localFilePath(databaseUrl), mediaDir, logger })
  if (!config.AUTH_ENCRYPTION_KEY) {
    logger.warn(
      'AUTH_ENCRYPTION_KEY is not set: WhatsApp credentials and keys are stored unencrypted in the database (see "Data at rest" in the README)',
    )
  }
  const apiKey = await resolveApiKey(dataDir, config.API_KEY)

  const store = await openDataStore(databaseUrl, config, logger)
  const db = store.db
  // API and connector share this object and every write goes through it, so the read model is
  // exact: requests read sessions, statuses and viewers from memory until something changes.
  const repos = withReadModel(store.repos, { consistency: 'exact' })
  const bus = new InProcessBus()
  const uploadLinkSecret = uploadLinkSecretFromApiKey(apiKey.key)

  // Signed upload links point at PUBLIC_URL, else at the origin the client reached; the fallback
  // (callers without a request) names the port, known only after listening when PORT=0.
  let fallbackUrl = `http://localhost:${config.PORT}`
  const media = await openMediaStore(config, {
    dir: mediaDir,
    ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {}),
    fallbackUrl: () => fallbackUrl,
    secret: uploadLinkSecret,
  })
  // Redis is optional here; when set, the rate limit is shared with whatever else uses it.
  const redis = await openRedisCommands(config)

  // One limiter for REST and the Socket.IO handshake, so both count against the same buckets.
  const memoryLimiter = rateLimiterFromConfig(config)
  const rateLimiter = redis
    ? new RedisRateLimiter(redis, {
        limits: { keyed: config.RATE_LIMIT_MAX, anonymous: config.RATE_LIMIT_ANON_MAX },
        windowMs: config.RATE_LIMIT_WINDOW_MS,
        clock: Date.now,
        fallback: memoryLimiter,
      })
    : memoryLimiter
  const dashboard = config.DASHBOARD ? await loadDashboardAssets() : null
  // One set of metrics: the API's requests and the connector's sends and receipts, at /metrics.
  const metrics = new ProductMetrics()
  const app = createApp({
    metrics,
    config,
    repos,
    commands: bus,
    events: bus,
    media,
    health: createHealthProbe({ db, media, redis: redis ?? undefined, connectors: 'in-process' }),
    peerAddress: nodePeerAddress,
    apiKey: apiKey.key,
    apiKeyMatcher: nodeApiKeyMatcher(apiKey.key),
    version: packageJson.version,
    startedAt,
    logger,
    resolveHost: nodeHostResolver,
    uploadLinkSecret,
    rateLimiter,
    ...(dashboard ? { dashboard } : {}),
  })

  const connector = new Connector({
    config,
    db,
    repos,
    events: bus,
    commands: bus,
    media,
    logger,
    metrics,
    ...overrides,
  })

  const http = await listen(app.fetch, config, app.fastReads)
  fallbackUrl = `http://localhost:${http.port}`

  const gateway = new SocketGateway(http.server, apiKey.key, {
    rateLimiter,
    trustProxy: config.TRUST_PROXY,
    events: bus,
    scopedKeys: app.scopedKeys,
  })
  http.guard()
  await gateway.start()
  await connector.start()

  let stopping: Promise<void> | null = null
  const stop = () => {
    stopping ??= (async () => {
      // Order matters: stop taking commands and close WhatsApp sockets (without logging out) and
      // flush viewer writes first, then close client connections, then the database.
      await connector.stop()
      await gateway.stop()
      await http.close()
      await bus.close()
      await redis?.close()
      db.close()
    })()
    return stopping
  }

  return { url: `http://localhost:${http.port}`, port: http.port, apiKey, repos, db, bus, connector, stop }
}
