import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { errorBody } from '../errors.js'
import type { AppEnv } from '../types.js'

/** JSON bodies are small; this keeps a huge one from being buffered. Uploads have their own limits. */
const JSON_BODY_LIMIT_BYTES = 1024 * 1024

const isUploadRoute = (method: string, path: string) =>
  (method === 'POST' && (path === '/api/upload-image' || path === '/api/upload-video')) ||
  (method === 'PUT' && path.startsWith('/api/uploads/'))

/**
 * Whether a request's body goes through the JSON body limit. Reading the body stream of a GET makes
 * the Node adapter build a full Request for nothing, so only methods with a body are.
 */
export const needsJsonBodyLimit = (method: string, path: string) =>
  method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && !isUploadRoute(method, path)

/** The limit itself: 413 past it, before the body is buffered. */
export const jsonBodyLimit = (): MiddlewareHandler<AppEnv> =>
  bodyLimit({
    maxSize: JSON_BODY_LIMIT_BYTES,
    onError: (c) => c.json(errorBody('Request body too large'), 413),
  })
