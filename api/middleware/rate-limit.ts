import type { MiddlewareHandler } from 'hono'
import { Messages } from '../../shared/errors.js'
import { rateLimitKeyForAddress } from '../../shared/net/ip-ranges.js'
import type { RateLimiter } from '../../shared/security/rate-limit.js'
import { errorBody } from '../errors.js'
import type { AppEnv } from '../types.js'
import { clientAddress, type PeerAddressReader } from './client-address.js'

export {
  FixedWindowRateLimiter,
  MemoryRateLimiter,
  type RateLimitBucket,
  type RateLimitDecision,
  type RateLimiter,
  rateLimiterFromConfig,
} from '../../shared/security/rate-limit.js'

/** Load balancers poll the health check; it says nothing and costs nothing, so it is never limited. */
const isHealthCheck = (method: string, path: string) =>
  (method === 'GET' || method === 'HEAD') && path === '/api/health'

/**
 * The PUT behind a signed link carries its authorisation in the link, not a key: it counts like a
 * keyed request, so a client pushing many direct uploads is not held to the anonymous budget. A
 * forged link only spends its own address's budget and is refused by the signature check.
 */
const isSignedUpload = (method: string, path: string) => method === 'PUT' && path.startsWith('/api/uploads/')

/**
 * Per-client limit with the standard RateLimit-* headers; over the limit it answers 429 with
 * Retry-After. Requests with the right key count in the `keyed` bucket, all others in the
 * stricter `anonymous` one (so guessing keys is limited, and strangers cannot use up the budget of
 * the key's owner). Runs after `identifyApiKey` and before the key check.
 */
export const rateLimit = (
  limiter: RateLimiter,
  options: { trustProxy: boolean; clock: () => number; peerAddress: PeerAddressReader },
): MiddlewareHandler<AppEnv> => {
  return async (c, next) => {
    if (isHealthCheck(c.req.method, c.req.path)) return next()
    const address = clientAddress(c, options.trustProxy, options.peerAddress)
    const client = address ? rateLimitKeyForAddress(address) : 'unknown'
    const decision = await limiter.hit(
      c.get('authenticated') || isSignedUpload(c.req.method, c.req.path) ? 'keyed' : 'anonymous',
      client,
    )
    const resetSeconds = Math.max(1, Math.ceil((decision.resetAt - options.clock()) / 1000))
    c.header('RateLimit-Limit', String(decision.limit))
    c.header('RateLimit-Remaining', String(decision.remaining))
    c.header('RateLimit-Reset', String(resetSeconds))
    if (!decision.allowed) {
      c.header('Retry-After', String(resetSeconds))
      return c.json(errorBody(Messages.rateLimited), 429)
    }
    await next()
  }
}
