import { randomBytes } from 'node:crypto'
import type { RedisClientType } from '@redis/client'
import type { Logger } from 'pino'
import { RedisKeys } from '../../shared/bus/redis-keys.js'
import type { CommandEnvelope } from '../../shared/commands.js'
import type { EventMessage } from '../../shared/events.js'
import { connectWithin, createRedisClient } from '../../shared/node/node-redis.js'
import { CommandConsumer } from './command-consumer.js'
import { LeaseKeeper } from './leases.js'
import { errorMessage } from './redis-replies.js'
import { type ConnectorInfo, ConnectorRegistry } from './registry.js'

/** What the cluster asks of the connector's sessions. */
export interface SessionHost {
  /** Sessions that should hold a socket somewhere (stored, not stopped or unlinked), with their last owner. */
  wantedSessions(): Promise<{ sessionId: string; connectorId: string | null }[]>
  /** The lease is ours now: take the session up (its socket starts when it is meant to run). */
  adopt(sessionId: string): Promise<void>
  /** The lease is gone or given back: close the socket at once, without logging out. */
  drop(sessionId: string): Promise<void>
  /** Whether the session still needs an owner here (a socket, linking, or a reconnect pending). */
  needsOwner(sessionId: string): boolean
  handle(command: CommandEnvelope): Promise<unknown>
}

export interface ClusterMemberOptions {
  redisUrl: string
  connectorId: string
  maxSessions: number
  leaseMs: number
  /** Public URL of this connector's Socket.IO and /health, shown to operators. */
  url?: string | null
  host: SessionHost
  /** Broadcasts an event born in the API to every Socket.IO client (through the cluster adapter). */
  relay(message: EventMessage): void
  logger: Logger
  clock?: () => number
}

/**
 * One connector's membership of the cluster: heartbeats, session leases, placement of new and
 * orphaned sessions, and the command streams of the sessions it holds.
 *
 * Placement spreads sessions: a free session is taken by the least loaded live connector (a
 * heavier one waits two rounds before it steps in). A session is free when no lease names an
 * owner; a dead connector's leases run out after `leaseMs`, and the next round picks them up.
 * After Redis comes back empty (its epoch key changed), nobody claims anything for one renewal
 * round, so every connector that still holds a socket has re-asserted its lease first.
 */
export class ClusterMember {
  private readonly redis: RedisClientType
  private readonly reader: RedisClientType
  private readonly subscriber: RedisClientType
  private readonly leases: LeaseKeeper
  private readonly consumer: CommandConsumer
  private readonly registry: ConnectorRegistry
  private readonly clock: () => number
  private running = false
  private placementTimer: NodeJS.Timeout | null = null
  private heartbeatTimer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private tickAgain = false
  private readonly nudged = new Set<string>()
  private readonly freeSince = new Map<string, number>()
  /** When each held session was adopted or last got a command: it keeps its lease a while. */
  private readonly lastActive = new Map<string, number>()
  private epoch: string | null = null
  private recoveringUntil = 0
  private readonly log: Logger

  constructor(private readonly options: ClusterMemberOptions) {
    this.clock = options.clock ?? Date.now
    this.log = options.logger.child({ connectorId: options.connectorId })
    this.redis = createRedisClient(options.redisUrl)
    this.reader = createRedisClient(options.redisUrl)
    this.subscriber = createRedisClient(options.redisUrl)
    this.leases = new LeaseKeeper(
      this.redis,
      options.connectorId,
      options.leaseMs,
      { onLost: (sessionId) => void this.lose(sessionId) },
      this.clock,
    )
    this.consumer = new CommandConsumer({
      redis: this.redis,
      reader: this.reader,
      connectorId: options.connectorId,
      handle: (command) => {
        this.lastActive.set(command.input.sessionId, this.clock())
        return options.host.handle(command)
      },
      relay: options.relay,
      logger: this.log,
      clock: this.clock,
    })
    this.registry = new ConnectorRegistry(
      this.redis,
      { id: options.connectorId, maxSessions: options.maxSessions, url: options.url ?? null },
      this.heartbeatMs,
      this.clock,
    )
  }

  get connectorId(): string {
    return this.options.connectorId
  }

  /** Sessions this connector holds the lease of. */
  get sessionCount(): number {
    return this.leases.size
  }

  get ready(): boolean {
    return this.running && this.redis.isReady
  }

  private get heartbeatMs(): number {
    return Math.max(100, Math.min(1_000, Math.floor(this.options.leaseMs / 5)))
  }

  private get placementMs(): number {
    return this.leases.renewIntervalMs
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    await Promise.all([
      connectWithin(this.redis, 2_000),
      connectWithin(this.reader, 2_000),
      connectWithin(this.subscriber, 2_000),
    ])
    await this.subscriber
      .subscribe(RedisKeys.placement, (sessionId) => {
        this.nudged.add(sessionId)
        this.scheduleTick()
      })
      .catch((error) =>
        this.log.warn({ reason: errorMessage(error) }, 'placement channel not subscribed yet'),
      )
    this.leases.start()
    await this.consumer.start()
    await this.beat()
    this.heartbeatTimer = setInterval(() => void this.beat(), this.heartbeatMs)
    this.heartbeatTimer.unref()
    this.placementTimer = setInterval(() => this.scheduleTick(), this.placementMs)
    this.placementTimer.unref()
    this.scheduleTick()
  }

  /**
   * Ordered: stop placing and reading commands (those running finish), then let the host close
   * its sockets (the caller does), then `release()` hands the leases back.
   */
  async stopTakingWork(): Promise<void> {
    if (!this.running) return
    this.running = false
    if (this.placementTimer) clearInterval(this.placementTimer)
    this.placementTimer = null
    await this.ticking
    await this.consumer.stop()
  }

  /** Gives every lease back and announces the sessions, so another connector takes them at once. */
  async release(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = null
    await this.leases.stop()
    const sessions = this.leases.sessions()
    await Promise.allSettled(sessions.map((sessionId) => this.leases.release(sessionId)))
    await Promise.allSettled(
      sessions.map((sessionId) => this.redis.sendCommand(['PUBLISH', RedisKeys.placement, sessionId])),
    )
    await this.registry.deregister().catch(() => {})
    await Promise.allSettled([this.subscriber.close(), this.reader.close(), this.redis.close()])
  }

  /** Live connectors with their loads, for health and placement. */
  liveConnectors(): Promise<ConnectorInfo[]> {
    return this.registry.live()
  }

  private async beat(): Promise<void> {
    await this.registry.heartbeat(this.leases.size).catch(() => {})
  }

  private scheduleTick(): void {
    if (!this.running) return
    if (this.ticking) {
      this.tickAgain = true
      return
    }
    this.ticking = this.tick()
      .catch((error) => this.log.warn({ reason: errorMessage(error) }, 'placement round failed'))
      .finally(() => {
        this.ticking = null
        if (this.tickAgain) {
          this.tickAgain = false
          this.scheduleTick()
        }
      })
  }

  private async tick(): Promise<void> {
    const now = this.clock()
    const stored = await this.options.host.wantedSessions()
    await this.checkEpoch(now, stored)
    await this.releaseIdle()
    if (now < this.recoveringUntil) return

    const nudged = [...this.nudged]
    this.nudged.clear()
    const wanted = new Set([...stored.map((s) => s.sessionId), ...nudged])
    const candidates = [...wanted].filter((sessionId) => !this.leases.holds(sessionId))
    if (!candidates.length) {
      this.freeSince.clear()
      return
    }
    const owners = await this.owners(candidates)
    const free: string[] = []
    for (const [i, sessionId] of candidates.entries()) {
      const owner = owners[i]
      if (owner === this.options.connectorId) {
        // Ours from before a restart with the same id: nobody else runs it, take it straight back.
        if (await this.leases.tryAcquireOwn(sessionId)) await this.adopt(sessionId)
      } else if (!owner) {
        free.push(sessionId)
      }
    }
    const stillFree = new Set(free)
    for (const sessionId of this.freeSince.keys())
      if (!stillFree.has(sessionId)) this.freeSince.delete(sessionId)
    if (!free.length) return

    const others = (await this.registry.live()).filter(
      (c) => c.id !== this.options.connectorId && c.sessions < c.maxSessions,
    )
    // Each live connector claims up to its fair share of everything placed plus what is free,
    // so a burst (a dead connector's sessions) is spread in one round; leftovers are picked up by
    // anyone once they have waited two rounds. Shuffled, so connectors do not race for the same ids.
    const total = this.leases.size + others.reduce((sum, c) => sum + c.sessions, 0) + free.length
    let budget = Math.ceil(total / (others.length + 1)) - this.leases.size
    for (const sessionId of shuffle(free)) {
      if (!this.running || this.leases.size >= this.options.maxSessions) break
      const since = this.freeSince.get(sessionId) ?? now
      this.freeSince.set(sessionId, since)
      if (budget <= 0 && now - since < 2 * this.placementMs) continue
      if (await this.leases.tryAcquire(sessionId)) {
        budget--
        this.freeSince.delete(sessionId)
        await this.adopt(sessionId)
      }
    }
    await this.beat()
  }

  private async owners(sessionIds: string[]): Promise<(string | null)[]> {
    const owners: (string | null)[] = []
    for (let i = 0; i < sessionIds.length; i += 500) {
      const chunk = sessionIds.slice(i, i + 500)
      const reply = (await this.redis.sendCommand(['MGET', ...chunk.map(RedisKeys.lease)])) as (
        | string
        | null
      )[]
      owners.push(...reply)
    }
    return owners
  }

  private async adopt(sessionId: string): Promise<void> {
    this.lastActive.set(sessionId, this.clock())
    try {
      await this.options.host.adopt(sessionId)
      await this.consumer.add(sessionId)
      this.log.info({ sessionId }, 'session adopted')
    } catch (error) {
      this.log.warn({ sessionId, reason: errorMessage(error) }, 'adopting a session failed')
      this.consumer.remove(sessionId)
      await this.options.host.drop(sessionId).catch(() => {})
      await this.leases.release(sessionId)
    }
  }

  private async lose(sessionId: string): Promise<void> {
    this.log.warn({ sessionId }, 'session lease lost: closing its socket')
    this.lastActive.delete(sessionId)
    this.consumer.remove(sessionId)
    await this.options.host.drop(sessionId).catch(() => {})
  }

  /** Sessions with nothing to run (stopped, unlinked, deleted) give their lease back. */
  private async releaseIdle(): Promise<void> {
    // A session adopted for a command (a restart of a stopped one) has nothing running until
    // that command is read: it keeps its lease for a couple of rounds first.
    const quietSince = this.clock() - 2 * this.placementMs
    for (const sessionId of this.leases.sessions()) {
      if (this.options.host.needsOwner(sessionId) || this.consumer.busy(sessionId)) continue
      if ((this.lastActive.get(sessionId) ?? 0) > quietSince) continue
      this.lastActive.delete(sessionId)
      this.consumer.remove(sessionId)
      await this.options.host.drop(sessionId).catch(() => {})
      await this.leases.release(sessionId)
    }
  }

  /**
   * Notices Redis coming back empty (its epoch key is gone or new). Connectors may still hold
   * sockets whose leases went with it, so when the database names other owners of running
   * sessions, nothing is placed for one renewal round: long enough for every holder to re-assert
   * its leases. A brand-new deployment (no other owners) places at once.
   */
  private async checkEpoch(now: number, stored: { connectorId: string | null }[]): Promise<void> {
    const current = (await this.redis.sendCommand(['GET', RedisKeys.epoch])) as string | null
    if (current && current === this.epoch) return
    if (!current) {
      await this.redis.sendCommand(['SET', RedisKeys.epoch, randomBytes(8).toString('hex'), 'NX'])
    }
    const fresh = (await this.redis.sendCommand(['GET', RedisKeys.epoch])) as string | null
    const othersMayHold = stored.some(
      (s) => s.connectorId !== null && s.connectorId !== this.options.connectorId,
    )
    if ((this.epoch !== null || !current) && othersMayHold) {
      this.recoveringUntil = now + this.leases.renewIntervalMs + 2 * this.heartbeatMs
      this.log.info({}, 'command bus state is new: waiting one lease round before placing sessions')
    }
    this.epoch = fresh
  }
}

const shuffle = <T>(items: T[]): T[] => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}
