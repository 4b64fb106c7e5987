import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'
import { toAppError } from '../shared/bus/in-process.js'
import { AppError } from '../shared/errors.js'
import type { AppEnv, AppLogger } from './types.js'

/**
 * The API's one error model: every failure, whatever raised it, answers
 * `{ success: false, error }` with the status `HTTP_STATUS` gives its code. Unknown errors become a
 * bare 500 so no stack, SQL or path ever reaches a client.
 */
export const errorBody = (message: string) => ({ success: false as const, error: message })

type Issue = z.core.$ZodIssue

const withArticle = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`)

const mentions = (message: string, field: string) =>
  new RegExp(`(^|[^A-Za-z0-9_.])${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(message)

/** Turns a zod issue into one readable sentence that names the field. */
export const describeIssue = (issue: Issue): string => {
  // A refinement that already wrote the whole sentence (shared with a service) asks for it as is.
  if (issue.code === 'custom' && issue.params?.verbatim === true) return issue.message
  const field = issue.path.map(String).join('.')
  if (!field) return issue.code === 'invalid_type' ? 'Request body must be a JSON object' : issue.message
  if (mentions(issue.message, field)) return issue.message
  switch (issue.code) {
    case 'invalid_type':
      // zod 4 leaves the input out of issues; a missing field is reported as "received undefined".
      return issue.message.endsWith('received undefined')
        ? `${field} is required`
        : `${field} must be ${withArticle(issue.expected)}`
    case 'invalid_value':
      return `${field} must be one of: ${issue.values.map(String).join(', ')}`
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return `${field} must not be empty`
      return `${field} must be at least ${issue.minimum}${issue.origin === 'string' ? ' characters' : ''}`
    case 'too_big':
      return `${field} must be at most ${issue.maximum}${issue.origin === 'string' ? ' characters' : ''}`
    case 'unrecognized_keys':
      return `${field}: unknown field ${issue.keys.join(', ')}`
    default:
      return `${field}: ${issue.message}`
  }
}

/** zod-openapi `defaultHook`: a failed request validation answers 400 naming the first bad field. */
export const validationHook = (
  result: { success: true } | { success: false; error: z.ZodError },
  c: Context<AppEnv>,
) => {
  if (result.success) return
  const first = result.error.issues[0]
  return c.json(errorBody(first ? describeIssue(first) : 'Invalid request'), 400)
}

/**
 * A client that went away before its request was answered: Node fails the body read with
 * `aborted` (ECONNRESET) and the adapter aborts the request's signal. Nothing failed on this side
 * and nobody is left to read an answer.
 */
const clientWentAway = (error: unknown, c: Context<AppEnv>) =>
  c.req.raw.signal.aborted ||
  (error instanceof Error &&
    (error as { code?: unknown }).code === 'ECONNRESET' &&
    error.message === 'aborted')

export const createErrorHandler =
  (logger: AppLogger): ErrorHandler<AppEnv> =>
  (error, c) => {
    if (clientWentAway(error, c)) {
      logger.warn(
        { requestId: c.get('requestId'), method: c.req.method, path: c.req.path },
        'client closed the request before it was answered',
      )
      return c.json(errorBody('Client closed the request'), 400)
    }
    // Hono's own 4xx (malformed JSON, unsupported media type) keep their status and message.
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(errorBody(error.message || 'Bad request'), error.status as ContentfulStatusCode)
    }
    // AppError messages are written for clients (including a connector's, e.g. why WhatsApp
    // refused a status); anything else becomes the generic internal error, details only in the log.
    const appError = toAppError(error)
    if (!(error instanceof AppError) || appError.status >= 500) {
      // The error goes under `err`, the logger's error key: its serializer decides how much of it
      // (a stack only at debug level) reaches the log.
      logger.error(
        {
          err: error,
          requestId: c.get('requestId'),
          method: c.req.method,
          path: c.req.path,
          code: appError.code,
        },
        'request failed',
      )
    }
    return c.json(errorBody(appError.message), appError.status)
  }

export const handleNotFound: NotFoundHandler<AppEnv> = (c) => c.json(errorBody('Not found'), 404)
