import { z } from '@hono/zod-openapi'
import { HTTP_STATUS } from '../shared/errors.js'

/** Building blocks every route definition shares, so the document and the responses agree. */

export const ErrorSchema = z
  .object({ success: z.literal(false), error: z.string() })
  .openapi('Error', { example: { success: false, error: 'Session not found' } })

/** `{ success: true, data }` around a route's payload. */
export const envelope = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data })

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
})

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  // `required` makes the validator run even when the client forgets Content-Type.
  required: true,
  content: { 'application/json': { schema } },
})

const ERROR_DESCRIPTIONS: Record<number, string> = {
  [HTTP_STATUS.bad_request]: 'Invalid input',
  [HTTP_STATUS.unauthorized]: 'Missing or invalid API key',
  [HTTP_STATUS.forbidden]: 'The API key is not allowed this (scope or session)',
  [HTTP_STATUS.not_found]: 'Not found',
  [HTTP_STATUS.conflict]: 'Conflicts with the current state',
  [HTTP_STATUS.payload_too_large]: 'File too large',
  [HTTP_STATUS.unsupported_media_type]: 'Unsupported media type',
  [HTTP_STATUS.rate_limited]: 'Too many requests (see Retry-After)',
  [HTTP_STATUS.internal]: 'Internal server error',
  [HTTP_STATUS.unavailable]: 'No connector is available',
  [HTTP_STATUS.timeout]: 'The connector did not answer in time',
}

type ErrorStatus = (typeof HTTP_STATUS)[keyof typeof HTTP_STATUS]

type ErrorResponses<S extends number> = Record<
  S,
  { content: { 'application/json': { schema: typeof ErrorSchema } }; description: string }
>

const buildErrorResponses = (statuses: number[]) =>
  Object.fromEntries(
    [...new Set(statuses)]
      .sort()
      .map((status) => [status, jsonContent(ErrorSchema, ERROR_DESCRIPTIONS[status] ?? 'Error')]),
  )

/** Error responses of a protected route; 401, 403, 429 and 500 apply to all of them and are added here. */
export const errorResponses = <S extends ErrorStatus>(...statuses: S[]) =>
  buildErrorResponses([...statuses, 401, 403, 429, 500]) as ErrorResponses<S | 401 | 403 | 429 | 500>

/** Error responses of a route that needs no API key. */
export const publicErrorResponses = <S extends ErrorStatus>(...statuses: S[]) =>
  buildErrorResponses([...statuses, 429, 500]) as ErrorResponses<S | 429 | 500>

/** Error responses of the health check, which is neither keyed nor rate-limited. */
export const healthErrorResponses = () => buildErrorResponses([500]) as ErrorResponses<500>

/** Errors of routes that reach the connector over the bus. */
export const BUS_ERRORS = [HTTP_STATUS.unavailable, HTTP_STATUS.timeout] as const
