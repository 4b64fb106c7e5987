import type { RedisCommands } from '../redis/types.js'
import { RedisKeys } from './redis-keys.js'

export interface LiveConnector {
  id: string
  sessions: number
  maxSessions: number
  /** Where its Socket.IO and /health answer, when it said. */
  url: string | null
}

const toHash = (raw: unknown): Record<string, string> => {
  const hash: Record<string, string> = {}
  if (Array.isArray(raw))
    for (let i = 0; i + 1 < raw.length; i += 2) hash[String(raw[i])] = String(raw[i + 1])
  return hash
}

/**
 * The connectors whose heartbeat still holds, with their loads: what `GET /api/health` reports and
 * how the API knows a command can be served at all. Read-only; connectors write their own entries.
 */
export const liveConnectors = async (redis: RedisCommands, now: number): Promise<LiveConnector[]> => {
  const ids = (await redis.call(['ZRANGEBYSCORE', RedisKeys.connectors, now, '+inf'])) as string[] | null
  if (!ids?.length) return []
  const hashes = await Promise.all(ids.map((id) => redis.call(['HGETALL', RedisKeys.connector(String(id))])))
  return ids.map((id, i) => {
    const hash = toHash(hashes[i])
    return {
      id: String(id),
      sessions: Number(hash.sessions ?? 0),
      maxSessions: Number(hash.max ?? 0),
      url: hash.url ? hash.url : null,
    }
  })
}
