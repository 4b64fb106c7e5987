import type { RedisClientType } from '@redis/client'
import { RedisKeys } from '../../shared/bus/redis-keys.js'

export interface ConnectorInfo {
  id: string
  sessions: number
  maxSessions: number
  /** Where its Socket.IO and /health answer, when it told. */
  url: string | null
}

/**
 * The live connectors: each one refreshes its entry every `intervalMs` (a score in a sorted set
 * that says until when it counts as alive, and a small hash with its load). Nothing needs cleaning
 * up when a connector dies: its score simply falls behind the clock.
 */
export class ConnectorRegistry {
  constructor(
    private readonly redis: RedisClientType,
    private readonly self: { id: string; maxSessions: number; url: string | null },
    private readonly intervalMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** How long an entry counts after its last heartbeat: a few missed beats, not one. */
  get ttlMs(): number {
    return this.intervalMs * 3
  }

  async heartbeat(sessions: number): Promise<void> {
    const expiresAt = this.clock() + this.ttlMs
    const key = RedisKeys.connector(this.self.id)
    await this.redis
      .multi()
      .addCommand(['ZADD', RedisKeys.connectors, String(expiresAt), this.self.id])
      .addCommand([
        'HSET',
        key,
        'sessions',
        String(sessions),
        'max',
        String(this.self.maxSessions),
        'url',
        this.self.url ?? '',
      ])
      .addCommand(['PEXPIRE', key, String(this.ttlMs)])
      // Entries of connectors long gone are dropped by whoever beats next.
      .addCommand(['ZREMRANGEBYSCORE', RedisKeys.connectors, '-inf', String(this.clock() - 60_000)])
      .exec()
  }

  async deregister(): Promise<void> {
    await this.redis
      .multi()
      .addCommand(['ZREM', RedisKeys.connectors, this.self.id])
      .addCommand(['DEL', RedisKeys.connector(this.self.id)])
      .exec()
  }

  async live(): Promise<ConnectorInfo[]> {
    const ids = (await this.redis.sendCommand([
      'ZRANGEBYSCORE',
      RedisKeys.connectors,
      String(this.clock()),
      '+inf',
    ])) as string[]
    if (!ids.length) return []
    const multi = this.redis.multi()
    for (const id of ids) multi.addCommand(['HGETALL', RedisKeys.connector(id)])
    const hashes = (await multi.exec()) as unknown[]
    return ids.map((id, i) => {
      const raw = hashes[i]
      const hash: Record<string, string> = {}
      if (Array.isArray(raw))
        for (let j = 0; j + 1 < raw.length; j += 2) hash[String(raw[j])] = String(raw[j + 1])
      else if (raw && typeof raw === 'object') Object.assign(hash, raw)
      return {
        id,
        sessions: Number(hash.sessions ?? 0),
        maxSessions: Number(hash.max ?? 0),
        url: hash.url ? hash.url : null,
      }
    })
  }
}
