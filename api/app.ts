import { OpenAPIHono } from '@hono/zod-openapi'
import { createWebApiKeyMatcher } from '../shared/security/api-key.js'
import { ScopedKeyResolver } from '../shared/security/scoped-keys.js'
import { uploadLinkSecretFromApiKey } from '../shared/storage/upload-signature.js'
import { serveDashboard } from './dashboard.js'
import { registerDocs } from './docs.js'
import { createErrorHandler, handleNotFound, validationHook } from './errors.js'
import { createFastReads, type ReadRequest, toResponse } from './fast-reads.js'
import { collectSessionStates, registerMetrics, timedCommands } from './metrics.js'
import { edgePeerAddress } from './middleware/client-address.js'
import { createRateLimit, rateLimiterFromConfig } from './middleware/rate-limit.js'
import { requestPipeline } from './middleware/request-pipeline.js'
import { registerRoutes } from './routes/index.js'
import { AnalyticsService } from './services/analytics-service.js'
import { ApiKeyService } from './services/api-key-service.js'
import { AudienceService } from './services/audience-service.js'
import type { ServiceContext } from './services/context.js'
import { SessionService } from './services/session-service.js'
import { StatusService } from './services/status-service.js'
import { SystemService } from './services/system-service.js'
import { UploadService } from './services/upload-service.js'
import { WebhookService } from './services/webhook-service.js'
import type { App, AppDeps, AppEnv, AppLogger, Services } from './types.js'

const silentLogger: AppLogger = { info() {}, warn() {}, error() {} }

/**
 * Builds the HTTP API. The one factory behind the Node entry, a Workers entry and the tests: all
 * outside resources arrive in `deps`, handlers reach services through the context.
 */
export const createApp = (deps: AppDeps): App => {
  const clock = deps.clock ?? Date.now
  const logger = deps.logger ?? silentLogger
  const metrics = deps.metrics
  const ctx: ServiceContext = {
    config: deps.config,
    repos: deps.repos,
    commands: metrics ? timedCommands(deps.commands, metrics) : deps.commands,
    events: deps.events,
    media: deps.media,
    clock,
    logger,
    ...(deps.resolveHost ? { resolveHost: deps.resolveHost } : {}),
  }
  if (!deps.resolveHost)
    logger.warn({}, 'no DNS resolver given: URL statuses are checked by literal host only')
  // Shared with the Socket.IO gateway of the same process (`app.scopedKeys`), so a key revoked
  // here stops opening sockets here at once.
  const scopedKeys = deps.scopedKeys ?? new ScopedKeyResolver(deps.repos.apiKeys, clock)
  const services: Services = {
    analytics: new AnalyticsService(ctx),
    apiKeys: new ApiKeyService(ctx, scopedKeys),
    audiences: new AudienceService(ctx),
    sessions: new SessionService(ctx),
    statuses: new StatusService(ctx),
    uploads: new UploadService(ctx, deps.uploadLinkSecret ?? uploadLinkSecretFromApiKey(deps.apiKey)),
    system: new SystemService(ctx, {
      version: deps.version,
      startedAt: deps.startedAt,
      ...(deps.health ? { health: deps.health } : {}),
    }),
    webhooks: new WebhookService(ctx),
  }
  // The embedded product passes the limiter it also gives the Socket.IO gateway, so failed
  // handshakes and REST requests share their buckets.
  const limiter = deps.rateLimiter ?? rateLimiterFromConfig(deps.config, clock)

  const rateLimit = createRateLimit(limiter, {
    trustProxy: deps.config.TRUST_PROXY,
    clock,
    peerAddress: deps.peerAddress ?? edgePeerAddress,
  })
  // The configured key is hashed once here; Node entries pass a synchronous node:crypto matcher.
  const keyMatcher = deps.apiKeyMatcher ?? createWebApiKeyMatcher(deps.apiKey)
  const onError = createErrorHandler(logger)

  const app: App = Object.assign(new OpenAPIHono<AppEnv>({ defaultHook: validationHook }), { scopedKeys })
  app.onError(onError)
  app.notFound(handleNotFound)
  app.use('*', requestPipeline({ services, keyMatcher, scopedKeys, rateLimit, onError, metrics }))

  registerRoutes(app)
  registerDocs(app, deps.version)
  if (metrics) {
    collectSessionStates(metrics, deps.repos)
    registerMetrics(app, metrics, deps.config.METRICS_TOKEN)
  }

  // `app.request` and every server call `app.fetch`: the dashboard's files and the hot reads are
  // answered before Hono.
  const honoFetch = app.fetch
  const dashboard = deps.dashboard
  if (dashboard) {
    app.fetch = (request, env, executionCtx) =>
      serveDashboard(dashboard, {
        method: request.method,
        url: request.url,
        header: (name) => request.headers.get(name) ?? undefined,
      }) ?? honoFetch(request, env, executionCtx)
  }
  if (deps.fastReads === false) return app
  const fastReads = createFastReads({ services, keyMatcher, rateLimit, metrics })
  const appFetch = app.fetch
  app.fetch = (request, env, executionCtx) => {
    const read: ReadRequest = {
      method: request.method,
      url: request.url,
      header: (name) => request.headers.get(name) ?? undefined,
      env,
    }
    const answered = fastReads(read)
    if (answered === undefined) return appFetch(request, env, executionCtx)
    if (!(answered instanceof Promise)) return toResponse(answered)
    return answered.then((found) => (found ? toResponse(found) : appFetch(request, env, executionCtx)))
  }
  // Node servers can answer the same reads straight from node:http (`shared/node/http-server.ts`).
  return Object.assign(app, { fastReads })
}
