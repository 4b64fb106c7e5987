import type { Context, MiddlewareHandler } from 'hono'
import { Messages } from '../../shared/errors.js'
import { apiKeyFromHeaders, apiKeyMatches } from '../../shared/security/api-key.js'
import { errorBody } from '../errors.js'
import type { AppEnv } from '../types.js'

/**
 * Routes that need no key: the health check (for load balancers), the OpenAPI document (it
 * describes the API and holds nothing secret, like the /docs page rendered from it), and the PUT
 * behind a signed upload link, whose signature is its authorisation.
 */
const isPublicRoute = (method: string, path: string) =>
  ((method === 'GET' || method === 'HEAD') && (path === '/api/health' || path === '/api/openapi.json')) ||
  (method === 'PUT' && /^\/api\/uploads\/[^/]+$/.test(path))

const carriesValidKey = (c: Context<AppEnv>, apiKey: string) =>
  apiKeyMatches(
    apiKeyFromHeaders((name) => c.req.header(name)),
    apiKey,
  )

/**
 * Compares the request's key (`x-api-key` or `Authorization: Bearer`, in constant time) once and
 * keeps the answer in `authenticated`: the rate limit picks its bucket by it before the key check
 * refuses anything.
 */
export const identifyApiKey = (apiKey: string): MiddlewareHandler<AppEnv> => {
  return async (c, next) => {
    c.set('authenticated', await carriesValidKey(c, apiKey))
    await next()
  }
}

/** Refuses every non-public route without the right key, with 401 and `WWW-Authenticate`. */
export const requireApiKey = (apiKey: string): MiddlewareHandler<AppEnv> => {
  return async (c, next) => {
    if (isPublicRoute(c.req.method, c.req.path)) return next()
    const authenticated = c.get('authenticated') ?? (await carriesValidKey(c, apiKey))
    if (!authenticated) {
      c.header('WWW-Authenticate', 'Bearer')
      return c.json(errorBody(Messages.unauthorized), 401)
    }
    await next()
  }
}
