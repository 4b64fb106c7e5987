import type { RedisClientType } from '@redis/client'
import { RedisKeys } from '../../shared/bus/redis-keys.js'
import { RECLAIM_OWN_LEASE, RELEASE_LEASE, RENEW_LEASES } from '../../shared/bus/redis-scripts.js'
import { evalWith } from '../../shared/redis/types.js'

export interface LeaseEvents {
  /** The lease went to another connector, or may have expired: stop the session's socket now. */
  onLost(sessionId: string): void
}

/**
 * The leases this connector holds (`wa:lease:{sessionId}` = connector id, SET NX PX), renewed in
 * one round trip every third of the lease time.
 *
 * Two connectors must never hold one WhatsApp session. So when renewals keep failing (Redis
 * unreachable) for long enough that a lease could have run out, every session is given up before
 * the lease can pass to another connector: `fenceAfterMs` (80 % of the lease) after the last
 * renewal that was *sent* and succeeded. A short outage stays below that and changes nothing.
 */
export class LeaseKeeper {
  private readonly held = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  private watchdog: NodeJS.Timeout | null = null
  private renewing: Promise<void> | null = null
  /** When the last successful renewal was sent (the leases hold at least `leaseMs` from then). */
  private lastRenewSentAt: number

  constructor(
    private readonly redis: RedisClientType,
    private readonly connectorId: string,
    readonly leaseMs: number,
    private readonly events: LeaseEvents,
    private readonly clock: () => number = Date.now,
  ) {
    this.lastRenewSentAt = clock()
  }

  get size(): number {
    return this.held.size
  }

  get renewIntervalMs(): number {
    return Math.max(100, Math.floor(this.leaseMs / 3))
  }

  private get fenceAfterMs(): number {
    return Math.floor(this.leaseMs * 0.8)
  }

  holds(sessionId: string): boolean {
    return this.held.has(sessionId)
  }

  sessions(): string[] {
    return [...this.held]
  }

  start(): void {
    if (this.timer) return
    this.lastRenewSentAt = this.clock()
    this.timer = setInterval(() => void this.renew(), this.renewIntervalMs)
    this.timer.unref()
    // Separate from renewing, which may hang on a black-holed connection: the fence must come
    // before the lease can run out, whatever the renewal is doing.
    this.watchdog = setInterval(
      () => {
        if (this.held.size && this.clock() - this.lastRenewSentAt >= this.fenceAfterMs) this.fence()
      },
      Math.max(50, Math.floor(this.leaseMs / 20)),
    )
    this.watchdog.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.watchdog) clearInterval(this.watchdog)
    this.timer = null
    this.watchdog = null
    await this.renewing
  }

  /** SET NX: true when the session is ours now. */
  async tryAcquire(sessionId: string): Promise<boolean> {
    const sentAt = this.clock()
    const reply = await this.redis.sendCommand([
      'SET',
      RedisKeys.lease(sessionId),
      this.connectorId,
      'NX',
      'PX',
      String(this.leaseMs),
    ])
    if (String(reply) !== 'OK') return false
    this.held.add(sessionId)
    if (this.held.size === 1) this.lastRenewSentAt = sentAt
    return true
  }

  /** Takes back a lease still naming this connector from before a restart. */
  async tryAcquireOwn(sessionId: string): Promise<boolean> {
    const sentAt = this.clock()
    const reply = await evalWith(
      (args) => this.redis.sendCommand(args.map(String)),
      RECLAIM_OWN_LEASE,
      [RedisKeys.lease(sessionId)],
      [this.connectorId, this.leaseMs],
    )
    if (Number(reply) !== 1) return false
    this.held.add(sessionId)
    if (this.held.size === 1) this.lastRenewSentAt = sentAt
    return true
  }

  /** Gives the lease up (only if still ours), so another connector may take the session at once. */
  async release(sessionId: string): Promise<void> {
    if (!this.held.delete(sessionId)) return
    await evalWith(
      (args) => this.redis.sendCommand(args.map(String)),
      RELEASE_LEASE,
      [RedisKeys.lease(sessionId)],
      [this.connectorId],
    ).catch(() => {})
  }

  /** Forgets a session without touching Redis (it was lost already). */
  forget(sessionId: string): void {
    this.held.delete(sessionId)
  }

  /** One renewal pass; overlapping calls share it. Exposed for tests. */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = null
    })
    return this.renewing
  }

  private async renewOnce(): Promise<void> {
    const sessions = [...this.held]
    if (!sessions.length) {
      this.lastRenewSentAt = this.clock()
      return
    }
    const sentAt = this.clock()
    try {
      const lost = (await evalWith(
        (args) => this.redis.sendCommand(args.map(String)),
        RENEW_LEASES,
        sessions.map(RedisKeys.lease),
        [this.connectorId, this.leaseMs],
      )) as number[]
      this.lastRenewSentAt = sentAt
      for (const index of lost) {
        const sessionId = sessions[Number(index) - 1]
        if (sessionId && this.held.delete(sessionId)) this.events.onLost(sessionId)
      }
    } catch {
      // Nothing to do: the next pass retries, and the watchdog fences if it comes to that.
    }
  }

  /** Renewals failed too long: every lease may be gone, so every session is given up. */
  private fence(): void {
    const sessions = [...this.held]
    this.held.clear()
    for (const sessionId of sessions) this.events.onLost(sessionId)
  }
}
