import { RATE_LIMIT_HIT } from '../bus/redis-scripts.js'
import type { RedisCommands } from '../redis/types.js'
import type { RateLimitBucket, RateLimitDecision, RateLimiter } from './rate-limit.js'

export interface RedisRateLimiterOptions {
  limits: Record<RateLimitBucket, number>
  windowMs: number
  clock: () => number
  /** Counts here while Redis cannot be reached, so the API keeps a limit during an outage. */
  fallback: RateLimiter
  /** Called once per outage (and once when Redis answers again), for a log line. */
  onFallback?: (active: boolean) => void
}

/**
 * The rate limit shared by every API instance (Node processes, Workers isolates): one fixed-window
 * counter per bucket and client in Redis, counted and timed by a script in one round trip. When
 * Redis fails, each instance counts on its own until Redis answers again.
 */
export class RedisRateLimiter implements RateLimiter {
  private degraded = false

  constructor(
    private readonly redis: RedisCommands,
    private readonly options: RedisRateLimiterOptions,
  ) {}

  async hit(bucket: RateLimitBucket, client: string): Promise<RateLimitDecision> {
    const limit = this.options.limits[bucket]
    try {
      const reply = (await this.redis.evalScript(
        RATE_LIMIT_HIT,
        [`wa:rl:${bucket}:${client}`],
        [this.options.windowMs],
      )) as [number, number]
      this.setDegraded(false)
      const count = Number(reply[0])
      const ttl = Math.max(0, Number(reply[1]))
      return {
        allowed: count <= limit,
        limit,
        remaining: Math.max(0, limit - count),
        resetAt: this.options.clock() + ttl,
      }
    } catch {
      this.setDegraded(true)
      return this.options.fallback.hit(bucket, client)
    }
  }

  private setDegraded(active: boolean) {
    if (this.degraded === active) return
    this.degraded = active
    this.options.onFallback?.(active)
  }
}
