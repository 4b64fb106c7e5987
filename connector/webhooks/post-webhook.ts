import type { IncomingHttpHeaders } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Messages } from '../../shared/errors.js'
import { ipFamily, isNonPublicAddress } from '../../shared/net/ip-ranges.js'
import { BlockedAddressError, guardedLookup } from '../guarded-lookup.js'

export interface WebhookPostOptions {
  timeoutMs: number
  /** The host is in WEBHOOK_ALLOWED_HOSTS: any address it resolves to may be contacted. */
  allowPrivate: boolean
}

/** What one attempt came to; `error` is null only for a 2xx answer. */
export interface WebhookAttempt {
  status: number | null
  error: string | null
  /** The receiver's `Retry-After` (on 429 and 503), in ms. */
  retryAfterMs: number | null
}

const parseRetryAfter = (headers: IncomingHttpHeaders, now: number): number | null => {
  const value = headers['retry-after']
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - now)
}

const describeFailure = (error: unknown, timeoutMs: number): string => {
  if (
    error instanceof BlockedAddressError ||
    (error as { cause?: unknown }).cause instanceof BlockedAddressError
  ) {
    return Messages.urlNonPublic
  }
  const name = (error as Error).name
  if (name === 'TimeoutError' || name === 'AbortError') return `No answer within ${timeoutMs} ms`
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ECONNREFUSED') return 'Connection refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'Could not resolve the host'
  if (code === 'ECONNRESET') return 'Connection reset'
  return code ? `Request failed (${code})` : 'Request failed'
}

/**
 * POSTs one delivery with the SSRF rules of media URLs enforced at connect time: every address the
 * host resolves to must be public (unless the operator allowed the host), so a name re-pointed at
 * an internal address after registration is refused, and redirects are not followed at all. Only
 * the status line is read; the receiver's body is discarded.
 */
export const postWebhook = (
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: WebhookPostOptions,
): Promise<WebhookAttempt> => {
  const isAllowed = options.allowPrivate ? () => true : (address: string) => !isNonPublicAddress(address)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve({ status: null, error: Messages.urlScheme, retryAfterMs: null })
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (ipFamily(host) && !isAllowed(host)) {
    return Promise.resolve({ status: null, error: Messages.urlNonPublic, retryAfterMs: null })
  }
  return new Promise((resolve) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(url, {
      method: 'POST',
      lookup: guardedLookup(isAllowed),
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    })
    req.once('response', (response) => {
      response.resume()
      response.once('error', () => {})
      const status = response.statusCode ?? 0
      const ok = status >= 200 && status < 300
      const redirect = status >= 300 && status < 400
      resolve({
        status,
        error: ok ? null : redirect ? `Redirects are not followed (HTTP ${status})` : `HTTP ${status}`,
        retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(response.headers, Date.now()) : null,
      })
    })
    req.once('error', (error) =>
      resolve({ status: null, error: describeFailure(error, options.timeoutMs), retryAfterMs: null }),
    )
    req.end(body)
  })
}
