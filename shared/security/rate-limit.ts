import type { Config } from '../config.js'

/**
 * Request counting shared by the REST API and the Socket.IO handshake. Web APIs only, so the same
 * code runs in a Workers isolate.
 */

export interface RateLimitDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Epoch ms when the current window ends. */
  resetAt: number
}

/**
 * Requests that carry the right API key count in `keyed`; everything else (no key, a wrong key,
 * a failed Socket.IO handshake) in the stricter `anonymous` bucket, so strangers can neither guess
 * keys quickly nor use up the budget of the operator's own clients behind the same address.
 */
export type RateLimitBucket = 'keyed' | 'anonymous'

/**
 * What the API and the gateway count with. The in-memory limiter below is per process; a store
 * shared between instances (Redis: INCR + PEXPIRE per bucket and client) can implement the same
 * method, which is why it may answer asynchronously.
 */
export interface RateLimiter {
  hit(bucket: RateLimitBucket, client: string): RateLimitDecision | Promise<RateLimitDecision>
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

/** One bounded fixed-window counter per bucket, each with its own limit. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets: Record<RateLimitBucket, FixedWindowRateLimiter>

  constructor(options: {
    limits: Record<RateLimitBucket, number>
    windowMs: number
    clock: () => number
    /** Per bucket; defaults to FixedWindowRateLimiter's. */
    maxKeys?: number
  }) {
    const bucket = (max: number) =>
      new FixedWindowRateLimiter({
        max,
        windowMs: options.windowMs,
        clock: options.clock,
        ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }),
      })
    this.buckets = { keyed: bucket(options.limits.keyed), anonymous: bucket(options.limits.anonymous) }
  }

  /** Clients tracked over all buckets. */
  get size() {
    return this.buckets.keyed.size + this.buckets.anonymous.size
  }

  hit(bucket: RateLimitBucket, client: string): RateLimitDecision {
    return this.buckets[bucket].hit(client)
  }
}

export const rateLimiterFromConfig = (
  config: Pick<Config, 'RATE_LIMIT_MAX' | 'RATE_LIMIT_ANON_MAX' | 'RATE_LIMIT_WINDOW_MS'>,
  clock: () => number = Date.now,
): MemoryRateLimiter =>
  new MemoryRateLimiter({
    limits: { keyed: config.RATE_LIMIT_MAX, anonymous: config.RATE_LIMIT_ANON_MAX },
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    clock,
  })

/**
 * The client a trusted proxy names in X-Forwarded-For: the last entry, the one that proxy
 * appended; the ones before it come from the client and prove nothing.
 */
export const lastForwardedAddress = (header: string | null | undefined): string | null =>
  header
    ?.split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1) ?? null
