import type { ErrorHandler, MiddlewareHandler } from 'hono'
import type { ProductMetrics } from '../../shared/metrics.js'
import { type ApiKeyMatcher, apiKeyFromHeaders } from '../../shared/security/api-key.js'
import type { ScopedKeyResolver } from '../../shared/security/scoped-keys.js'
import { errorBody } from '../errors.js'
import type { AppEnv, Services } from '../types.js'
import { refusalFor } from './access.js'
import { isPublicRoute, unauthorized } from './api-key.js'
import { jsonBodyLimit, needsJsonBodyLimit } from './body-limit.js'
import { closeConnectionOnRejectedBody } from './connection-close.js'
import { RATE_LIMITED_BODY, type RateLimit } from './rate-limit.js'
import { closeFrame, openFrame } from './response-frame.js'

export interface RequestPipelineOptions {
  services: Services
  keyMatcher: ApiKeyMatcher
  /** Keys created through the API, each limited to scopes and sessions. */
  scopedKeys: ScopedKeyResolver
  rateLimit: RateLimit
  /** The app's error handler, for a failure in the pipeline itself (a limiter that throws). */
  onError: ErrorHandler<AppEnv>
  /** Counts each answer by route and status. */
  metrics?: ProductMetrics | undefined
}

/**
 * Everything a request goes through before its route, as one middleware: Hono runs each
 * middleware as its own async step, and on small answers those steps cost as much as the work they
 * do. In order:
 *  1. the response frame: request id, secure headers (see `response-frame.ts`);
 *  2. the key, compared once (`authenticated`, which health and the rate limit read too): the
 *     admin key, else a scoped key looked up by its digest;
 *  3. the rate limit, before the key check, so guessing keys is limited (in the anonymous bucket);
 *  4. the key check for every non-public route, and a scoped key's scope and sessions (403);
 *  5. the JSON body limit for requests with a body;
 *  6. the route; then, on whatever answer came back, the frame's headers and `Connection: close`
 *     after an error answered to a request with a body.
 */
export const requestPipeline = (options: RequestPipelineOptions): MiddlewareHandler<AppEnv> => {
  const bodyLimit = jsonBodyLimit()
  const { services, keyMatcher, scopedKeys, rateLimit } = options

  return async (c, next) => {
    const frame = openFrame(c)
    c.set('services', services)
    try {
      // `x-api-key` or `Authorization: Bearer`, read once: the admin key compared in constant time
      // (synchronously where the matcher is), else a scoped key looked up.
      const candidate = apiKeyFromHeaders((name) => c.req.header(name))
      const keyed = keyMatcher.matches(candidate)
      const isAdmin = typeof keyed === 'boolean' ? keyed : await keyed
      const scoped = isAdmin ? null : await scopedKeys.resolve(candidate)
      const authenticated = isAdmin || scoped !== null
      c.set('authenticated', authenticated)
      c.set('scopedKey', scoped ?? null)
      const method = c.req.method
      const path = c.req.path
      const counted = rateLimit.count(c, method, path, authenticated)
      const decision = counted instanceof Promise ? await counted : counted
      const routePath = scoped ? c.req.matchedRoutes.findLast((m) => m.method !== 'ALL')?.path : undefined
      const refused = scoped && routePath ? refusalFor(scoped, method, routePath, path) : null
      if (decision && !rateLimit.apply(frame.headers, decision)) c.res = frame.respond(RATE_LIMITED_BODY, 429)
      else if (!authenticated && path.startsWith('/api/') && !isPublicRoute(method, path))
        c.res = unauthorized(frame)
      else if (refused) c.res = frame.respond(JSON.stringify(errorBody(refused.message)), 403)
      else if (path.startsWith('/api/') && needsJsonBodyLimit(method, path)) {
        const tooLarge = await bodyLimit(c, next)
        if (tooLarge instanceof Response) c.res = tooLarge
      } else await next()
    } catch (error) {
      if (!(error instanceof Error)) throw error
      c.error = error
      c.res = await options.onError(error, c)
    }
    closeFrame(c, frame)
    closeConnectionOnRejectedBody(c)
    if (options.metrics) {
      // The route as declared (`/api/sessions/:sessionId`), never the path a client sent, so label
      // values stay few whatever is requested; also for answers given before the route ran (401,
      // 429). Middleware is registered for every method, routes for theirs.
      const route = c.req.matchedRoutes.findLast((matched) => matched.method !== 'ALL')?.path ?? 'unmatched'
      options.metrics.httpRequests.inc({ method: c.req.method, route, status: c.res.status })
    }
  }
}
