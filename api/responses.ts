import type { Context, TypedResponse } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { JSONParsed } from 'hono/utils/types'
import type { JsonBytes } from './services/prepared-json.js'
import type { AppEnv } from './types.js'

/**
 * Answers JSON serialized beforehand (`services/prepared-json.ts`) with the request's frame
 * headers, typed as the `c.json` answer of the same value, so a route's OpenAPI response type
 * still checks it.
 */
export const sendJson = <T, S extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  body: JsonBytes<T>,
  status: S,
): Response & TypedResponse<JSONParsed<T>, S, 'json'> =>
  c.get('frame').respond(body, status) as Response & TypedResponse<JSONParsed<T>, S, 'json'>
