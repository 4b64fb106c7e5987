import { createClient, createClientPool, type RedisClientType } from '@redis/client'
import { evalWith, type RedisArg, type RedisCommands } from '../redis/types.js'

/** node-redis with the settings every process of the product wants. */
export const createRedisClient = (url: string): RedisClientType => {
  const client = createClient({
    url,
    // An unreachable Redis fails a command at once instead of queueing it until Redis returns:
    // the API answers 503 within a second, and nothing refused then runs later.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1_000,
      // Keep trying quietly; callers see failures through the commands they make.
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000),
    },
  }) as RedisClientType
  // Errors surface through the failed commands; an 'error' listener keeps one from being fatal.
  client.on('error', () => {})
  return client
}

/**
 * Connects, but waits at most `ms`: a process must start (and answer 503s) while Redis is down,
 * and node-redis keeps reconnecting in the background either way.
 */
export const connectWithin = async (client: { connect(): Promise<unknown> }, ms: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    client.connect().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
    }),
  ])
  clearTimeout(timer)
}

/**
 * Redis over TCP (Node). Blocking commands borrow a connection from a small pool, so replies the
 * API is waiting for never hold up each other or the non-blocking commands.
 */
export const nodeRedisCommands = async (url: string): Promise<RedisCommands> => {
  const client = createRedisClient(url)
  await connectWithin(client, 2_000)
  const pool = createClientPool(
    {
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 1_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
    },
    { minimum: 1, maximum: 200, acquireTimeout: 1_000, cleanupDelay: 10_000 },
  )
  pool.on('error', () => {})
  await connectWithin(pool, 2_000)
  const call = (args: RedisArg[]) => client.sendCommand(args.map(String))
  return {
    call,
    callBlocking: (args) => pool.sendCommand(args.map(String)),
    evalScript: (script, keys, args) => evalWith(call, script, keys, args),
    close: async () => {
      await Promise.allSettled([client.close(), pool.close()])
    },
  }
}
