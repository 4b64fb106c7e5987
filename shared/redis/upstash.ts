import { Redis } from '@upstash/redis/cloudflare'
import { evalWith, type RedisArg, type RedisCommands, type RedisScript } from './types.js'

export interface UpstashOptions {
  url: string
  token: string
  /** A call that has not answered by then fails, so an outage is reported quickly. */
  timeoutMs?: number
}

/**
 * Redis over the Upstash REST API (fetch only: Workers and Node). Retries are off and every
 * non-blocking call has a short deadline, so an unreachable Redis turns into a quick, clear
 * failure rather than a request that hangs; replies are taken raw (no JSON guessing).
 */
export const upstashCommands = (options: UpstashOptions): RedisCommands => {
  const timeoutMs = options.timeoutMs ?? 1_000
  const base = {
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: false as const,
  }
  const redis = new Redis({ ...base, signal: () => AbortSignal.timeout(timeoutMs) })
  // Blocking calls wait as long as the command allows; they travel alone (no auto-pipelining),
  // so a BLPOP never holds back the commands batched with it.
  const blocking = new Redis({ ...base, enableAutoPipelining: false })
  const call = async (args: RedisArg[]) => redis.exec(args.map(String) as [string, ...string[]])
  return {
    call,
    callBlocking: async (args) => blocking.exec(args.map(String) as [string, ...string[]]),
    evalScript: (script: RedisScript, keys: string[], args: RedisArg[]) => evalWith(call, script, keys, args),
    close: async () => {},
  }
}
