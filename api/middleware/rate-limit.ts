import type { MiddlewareHandler } from 'hono'
import { Messages } from '../../shared/errors.js'
import { rateLimitKeyForAddress } from '../../shared/net/ip-ranges.js'
import { errorBody } from '../errors.js'
import type { AppEnv } from '../types.js'
import { clientAddress } from './client-address.js'

export interface RateLimitDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Epoch ms when the current window ends. */
  resetAt: number
}

interface Window {
  count: number
  resetAt: number
}

/**
 * Fixed-window counter per key, in memory (per process or isolate). Memory stays bounded: windows
 * sit in the map in the order they started, so expired ones are at the front and are dropped
 * cheaply; at `maxKeys` the oldest window is dropped even if still running.
 */
export class FixedWindowRateLimiter {
  private readonly windows = new Map<string, Window>()

  constructor(
    private readonly options: { max: number; windowMs: number; clock: () => number; maxKeys?: number },
  ) {}

  get size() {
    return this.windows.size
  }

  hit(key: string): RateLimitDecision {
    const now = this.options.clock()
    let window = this.windows.get(key)
    if (!window || window.resetAt <= now) {
      if (window) this.windows.delete(key) // re-inserted below, at the back
      this.evict(now)
      window = { count: 0, resetAt: now + this.options.windowMs }
      this.windows.set(key, window)
    }
    window.count++
    const limit = this.options.max
    return {
      allowed: window.count <= limit,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetAt: window.resetAt,
    }
  }

  private evict(now: number) {
    const maxKeys = this.options.maxKeys ?? 100_000
    for (const [key, window] of this.windows) {
      if (window.resetAt > now && this.windows.size < maxKeys) break
      this.windows.delete(key)
    }
  }
}

/**
 * Per-client limit with the standard RateLimit-* headers; over the limit it answers 429 with
 * Retry-After. Runs before the API key check so guessing keys is limited too.
 */
export const rateLimit = (
  limiter: FixedWindowRateLimiter,
  options: { trustProxy: boolean; clock: () => number },
): MiddlewareHandler<AppEnv> => {
  return async (c, next) => {
    const address = clientAddress(c, options.trustProxy)
    const decision = limiter.hit(address ? rateLimitKeyForAddress(address) : 'unknown')
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
