import type { MiddlewareHandler } from 'hono'
import { Messages } from '../../shared/errors.js'
import { apiKeyFromHeaders, apiKeyMatches } from '../../shared/security/api-key.js'
import { errorBody } from '../errors.js'
import type { AppEnv } from '../types.js'

/**
 * Routes that need no key: the health check (for load balancers), and the PUT behind a signed
 * upload link, whose signature is its authorisation.
 */
const isPublicRoute = (method: string, path: string) =>
  ((method === 'GET' || method === 'HEAD') && path === '/api/health') ||
  (method === 'PUT' && /^\/api\/uploads\/[^/]+$/.test(path))

/** `x-api-key` or `Authorization: Bearer`, compared in constant time. */
export const requireApiKey = (apiKey: string): MiddlewareHandler<AppEnv> => {
  return async (c, next) => {
    if (isPublicRoute(c.req.method, c.req.path)) return next()
    const candidate = apiKeyFromHeaders((name) => c.req.header(name))
    if (!(await apiKeyMatches(candidate, apiKey))) {
      c.header('WWW-Authenticate', 'Bearer')
      return c.json(errorBody(Messages.unauthorized), 401)
    }
    await next()
  }
}
