import { Messages } from '../../shared/errors.js'
import { rateLimitKeyForAddress } from '../../shared/net/ip-ranges.js'
import type { RateLimitDecision, RateLimiter } from '../../shared/security/rate-limit.js'
import { errorBody } from '../errors.js'
import { clientAddress, type PeerAddressReader, type RequestSource } from './client-address.js'
import type { HeaderRecord } from './response-frame.js'

export {
  FixedWindowRateLimiter,
  MemoryRateLimiter,
  type RateLimitBucket,
  type RateLimitDecision,
  type RateLimiter,
  rateLimiterFromConfig,
} from '../../shared/security/rate-limit.js'

/** Load balancers poll the health check; it says nothing and costs nothing, so it is never limited. */
export const isHealthCheck = (method: string, path: string) =>
  (method === 'GET' || method === 'HEAD') && path === '/api/health'

/**
 * The PUT behind a signed link carries its authorisation in the link, not a key: it counts like a
 * keyed request, so a client pushing many direct uploads is not held to the anonymous budget. A
 * forged link only spends its own address's budget and is refused by the signature check.
 */
const isSignedUpload = (method: string, path: string) => method === 'PUT' && path.startsWith('/api/uploads/')

/**
 * Client addresses → their rate-limit keys. Parsing an address costs more than the rest of the
 * limit, and a client sends many requests: recent ones are remembered, a bounded few.
 */
const KEY_CACHE_SIZE = 1024
const keyCache = new Map<string, string>()
const limitKeyFor = (address: string) => {
  let key = keyCache.get(address)
  if (key === undefined) {
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear()
    key = rateLimitKeyForAddress(address)
    keyCache.set(address, key)
  }
  return key
}

export interface RateLimitOptions {
  trustProxy: boolean
  clock: () => number
  peerAddress: PeerAddressReader
}

/**
 * Per-client limit with the standard RateLimit-* headers; over the limit the caller answers 429
 * with Retry-After. Requests with the right key count in the `keyed` bucket, all others in the
 * stricter `anonymous` one (so guessing keys is limited, and strangers cannot use up the budget of
 * the key's owner). Runs after the key was identified and before the key check.
 */
export const createRateLimit = (limiter: RateLimiter, options: RateLimitOptions) => ({
  /**
   * Counts the request and returns the limiter's decision (no promise when the limiter answers
   * synchronously, as the in-memory one does); null for the health check, which is never limited.
   */
  count(
    source: RequestSource,
    method: string,
    path: string,
    authenticated: boolean,
  ): RateLimitDecision | Promise<RateLimitDecision> | null {
    if (isHealthCheck(method, path)) return null
    const address = clientAddress(source, options.trustProxy, options.peerAddress)
    const client = address ? limitKeyFor(address) : 'unknown'
    return limiter.hit(authenticated || isSignedUpload(method, path) ? 'keyed' : 'anonymous', client)
  },

  /** Writes the decision's headers into `headers`; whether the request may go on. */
  apply(headers: HeaderRecord, decision: RateLimitDecision): boolean {
    const resetSeconds = Math.max(1, Math.ceil((decision.resetAt - options.clock()) / 1000))
    headers['RateLimit-Limit'] = String(decision.limit)
    headers['RateLimit-Remaining'] = String(decision.remaining)
    headers['RateLimit-Reset'] = String(resetSeconds)
    if (decision.allowed) return true
    headers['Retry-After'] = String(resetSeconds)
    return false
  },
})

export type RateLimit = ReturnType<typeof createRateLimit>

/** The 429 body, the same wherever the refusal is answered. */
export const RATE_LIMITED_BODY = JSON.stringify(errorBody(Messages.rateLimited))
