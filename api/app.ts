import { OpenAPIHono } from '@hono/zod-openapi'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { uploadLinkSecretFromApiKey } from '../shared/storage/upload-signature.js'
import { registerDocs } from './docs.js'
import { createErrorHandler, handleNotFound, validationHook } from './errors.js'
import { identifyApiKey, requireApiKey } from './middleware/api-key.js'
import { limitJsonBodies } from './middleware/body-limit.js'
import { edgePeerAddress } from './middleware/client-address.js'
import { closeConnectionOnRejectedBody } from './middleware/connection-close.js'
import { rateLimit, rateLimiterFromConfig } from './middleware/rate-limit.js'
import { registerRoutes } from './routes/index.js'
import type { ServiceContext } from './services/context.js'
import { SessionService } from './services/session-service.js'
import { StatusService } from './services/status-service.js'
import { SystemService } from './services/system-service.js'
import { UploadService } from './services/upload-service.js'
import type { App, AppDeps, AppEnv, AppLogger, Services } from './types.js'

const silentLogger: AppLogger = { info() {}, warn() {}, error() {} }

/**
 * Builds the HTTP API. The one factory behind the Node entry, a Workers entry and the tests: all
 * outside resources arrive in `deps`, handlers reach services through the context.
 */
export const createApp = (deps: AppDeps): App => {
  const clock = deps.clock ?? Date.now
  const logger = deps.logger ?? silentLogger
  const ctx: ServiceContext = {
    config: deps.config,
    repos: deps.repos,
    commands: deps.commands,
    events: deps.events,
    media: deps.media,
    clock,
    logger,
    ...(deps.resolveHost ? { resolveHost: deps.resolveHost } : {}),
  }
  if (!deps.resolveHost)
    logger.warn({}, 'no DNS resolver given: URL statuses are checked by literal host only')
  const services: Services = {
    sessions: new SessionService(ctx),
    statuses: new StatusService(ctx),
    uploads: new UploadService(ctx, deps.uploadLinkSecret ?? uploadLinkSecretFromApiKey(deps.apiKey)),
    system: new SystemService(ctx, {
      version: deps.version,
      startedAt: deps.startedAt,
      ...(deps.health ? { health: deps.health } : {}),
    }),
  }
  // The embedded product passes the limiter it also gives the Socket.IO gateway, so failed
  // handshakes and REST requests share their buckets.
  const limiter = deps.rateLimiter ?? rateLimiterFromConfig(deps.config, clock)

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  app.onError(createErrorHandler(logger))
  app.notFound(handleNotFound)

  // Outermost, so it sees every error answer, whichever layer gave it.
  app.use('*', closeConnectionOnRejectedBody())
  // Client ids are echoed and logged: only short ones of [A-Za-z0-9_=-] are kept, others replaced.
  app.use('*', requestId({ limitLength: 64 }))
  app.use('*', secureHeaders())
  app.use('*', identifyApiKey(deps.apiKey))
  // Before the key check, so guessing keys is rate-limited too (in the anonymous bucket).
  app.use(
    '*',
    rateLimit(limiter, {
      trustProxy: deps.config.TRUST_PROXY,
      clock,
      peerAddress: deps.peerAddress ?? edgePeerAddress,
    }),
  )
  app.use('/api/*', requireApiKey(deps.apiKey))
  app.use('/api/*', limitJsonBodies())
  app.use('*', async (c, next) => {
    c.set('services', services)
    await next()
  })

  registerRoutes(app)
  registerDocs(app, deps.version)
  return app
}
