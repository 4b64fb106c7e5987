import { hostname } from 'node:os'
import { Hono } from 'hono'
import { EventHub } from '../shared/bus/types.js'
import type { Config } from '../shared/config.js'
import { Messages } from '../shared/errors.js'
import { METRICS_CONTENT_TYPE, ProductMetrics } from '../shared/metrics.js'
import { listen } from '../shared/node/http-server.js'
import { isMainModule } from '../shared/node/is-main.js'
import type { Logger } from '../shared/node/logger.js'
import { nodeRedisCommands } from '../shared/node/node-redis.js'
import { type RunningProcess, runProcess } from '../shared/node/process-entry.js'
import { SocketGateway } from '../shared/node/socket-gateway.js'
import { openDataStore } from '../shared/node/stores.js'
import { apiKeyFromHeaders, apiKeyMatches } from '../shared/security/api-key.js'
import { rateLimiterFromConfig } from '../shared/security/rate-limit.js'
import { RedisRateLimiter } from '../shared/security/redis-rate-limit.js'
import { ScopedKeyResolver } from '../shared/security/scoped-keys.js'
import { S3MediaStore, s3StoreOptions } from '../shared/storage/s3.js'
import { ClusterMember } from './cluster/cluster-member.js'
import { Connector, type ConnectorDeps } from './connector.js'

/** What tests running connectors in process may swap (a URL-media stand-in, faster reconnects). */
export type ConnectorOverrides = Partial<
  Pick<ConnectorDeps, 'socketFactory' | 'backoff' | 'ingest' | 'fetchUrlMedia'>
>

export interface ConnectorProcess extends RunningProcess {
  connectorId: string
  /** The port of its Socket.IO and /health. */
  port: number
  connector: Connector
}

/**
 * `ROLE=connector`: one connector of a split deployment. It holds the WhatsApp sockets of the
 * sessions whose lease it wins (placement spreads them over the live connectors), runs their
 * commands from Redis, and serves Socket.IO (a member of the cluster: clients may attach to any)
 * and `GET /health` (200 once it takes part in the cluster, 503 before and while stopping) on PORT.
 */
export const startConnector = async (
  config: Config,
  logger: Logger,
  overrides: ConnectorOverrides = {},
): Promise<ConnectorProcess> => {
  const connectorId = config.CONNECTOR_ID ?? `${hostname()}-${process.pid}`
  const log = logger.child({ connectorId })
  const redisUrl = config.REDIS_URL ?? ''
  const { db, repos } = await openDataStore(config.LIBSQL_URL ?? '', config, log)
  const media = new S3MediaStore(s3StoreOptions(config))
  const events = new EventHub()
  const metrics = new ProductMetrics()
  const connector = new Connector({
    config,
    db,
    repos,
    events,
    media,
    logger: log,
    connectorId,
    metrics,
    ...overrides,
  })

  let member: ClusterMember | null = null
  const health = new Hono()
  health.get('/health', (c) => {
    const ready = member?.ready ?? false
    return c.json(
      { status: ready ? 'ready' : 'not_ready', connectorId, sessions: member?.sessionCount ?? 0 },
      ready ? 200 : 503,
    )
  })
  // This connector's sends, acks and receipts, for the API key or METRICS_TOKEN.
  const scrapers = [config.API_KEY, config.METRICS_TOKEN].filter((key): key is string => !!key)
  health.get('/metrics', async (c) => {
    const sent = apiKeyFromHeaders((name) => c.req.header(name))
    const allowed = (await Promise.all(scrapers.map((key) => apiKeyMatches(sent, key)))).some(Boolean)
    if (!allowed) {
      return c.json({ success: false, error: Messages.unauthorized }, 401)
    }
    return c.body(await metrics.render(), 200, { 'Content-Type': METRICS_CONTENT_TYPE })
  })
  const http = await listen(health.fetch, config)

  const redis = await nodeRedisCommands(redisUrl)
  const gateway = new SocketGateway(http.server, config.API_KEY ?? '', {
    rateLimiter: new RedisRateLimiter(redis, {
      limits: { keyed: config.RATE_LIMIT_MAX, anonymous: config.RATE_LIMIT_ANON_MAX },
      windowMs: config.RATE_LIMIT_WINDOW_MS,
      clock: Date.now,
      fallback: rateLimiterFromConfig(config),
    }),
    trustProxy: config.TRUST_PROXY,
    events,
    redisUrl,
    scopedKeys: new ScopedKeyResolver(repos.apiKeys),
  })
  http.guard()
  await gateway.start()
  await connector.start()
  member = new ClusterMember({
    redisUrl,
    connectorId,
    maxSessions: config.CONNECTOR_MAX_SESSIONS,
    leaseMs: config.SESSION_LEASE_MS,
    url: config.PUBLIC_URL ?? null,
    host: connector.sessions,
    // Events born in the API reach one connector, which hands them to its own listeners and,
    // through the gateway, to every client of the cluster.
    relay: (message) => void events.publish(message),
    logger: log,
  })
  await member.start()
  log.info({ port: http.port }, 'connector listening')

  const running = member
  return {
    connectorId,
    port: http.port,
    connector,
    async stop() {
      // Ordered: take no more commands or sessions, close the WhatsApp sockets (no logout) and
      // flush viewer writes, then hand the leases back so another connector takes over at once,
      // then the client connections and the stores.
      await running.stopTakingWork()
      await connector.stop()
      await running.release()
      await gateway.stop()
      await http.close()
      await redis.close()
      media.close()
      db.close()
    },
  }
}

if (isMainModule(import.meta.url)) runProcess(startConnector)
