import { Messages } from '../../shared/errors.js'
import { errorBody } from '../errors.js'
import type { ResponseFrame } from './response-frame.js'

/**
 * Routes that need no key: the health check (for load balancers), the OpenAPI document (it
 * describes the API and holds nothing secret, like the /docs page rendered from it), and the PUT
 * behind a signed upload link, whose signature is its authorisation.
 */
export const isPublicRoute = (method: string, path: string) =>
  ((method === 'GET' || method === 'HEAD') && (path === '/api/health' || path === '/api/openapi.json')) ||
  (method === 'PUT' && /^\/api\/uploads\/[^/]+$/.test(path))

/** The 401 body, the same wherever the refusal is answered. */
export const UNAUTHORIZED_BODY = JSON.stringify(errorBody(Messages.unauthorized))

/** The refusal of a non-public route without the right key: 401 with `WWW-Authenticate`. */
export const unauthorized = (frame: ResponseFrame): Response => {
  frame.headers['WWW-Authenticate'] = 'Bearer'
  return frame.respond(UNAUTHORIZED_BODY, 401)
}
