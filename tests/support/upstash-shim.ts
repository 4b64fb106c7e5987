import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient, type RedisClientType } from '@redis/client'

/**
 * The Upstash Redis REST protocol over a real Redis, for tests: what `@upstash/redis` sends, with
 * no Upstash account. Every call is a POST with `Authorization: Bearer <token>`; `/` runs one
 * command (`["SET","k","v"]`), `/pipeline` a list of them, `/multi-exec` a list in one MULTI/EXEC.
 * Replies are `{ result }` / `{ error }` (a list of those for the two batch paths); with the
 * `Upstash-Encoding: base64` request header every string in a result is base64, as the real
 * service does. Blocking commands get a connection of their own so they never stall the others.
 */

type Reply = string | number | null | Reply[] | { [key: string]: Reply }

const BLOCKING = new Set(['BLPOP', 'BRPOP', 'BLMOVE', 'BRPOPLPUSH', 'BZPOPMIN', 'BZPOPMAX', 'WAIT'])

const isBlocking = (args: string[]) => {
  const name = args[0]?.toUpperCase() ?? ''
  if (BLOCKING.has(name)) return true
  return (name === 'XREAD' || name === 'XREADGROUP') && args.some((a) => a.toUpperCase() === 'BLOCK')
}

const encodeBase64 = (reply: Reply): Reply => {
  if (typeof reply === 'string') return Buffer.from(reply, 'utf8').toString('base64')
  if (Array.isArray(reply)) return reply.map(encodeBase64)
  return reply
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })

const isCommand = (value: unknown): value is (string | number)[] =>
  Array.isArray(value) &&
  value.length > 0 &&
  value.every((part) => typeof part === 'string' || typeof part === 'number')

export class UpstashShim {
  /** How many requests reached the shim (tests use it to prove the REST path is taken). */
  requests = 0

  private constructor(
    private readonly server: Server,
    private readonly redis: RedisClientType,
    readonly token: string,
    private readonly redisUrl: string,
  ) {}

  static async start(options: { redisUrl: string; token?: string }): Promise<UpstashShim> {
    const redis = createClient({
      url: options.redisUrl,
      // Like the hosted service: a command fails at once while Redis is unreachable.
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 500) },
    }) as RedisClientType
    redis.on('error', () => {})
    await redis.connect()
    const token = options.token ?? 'upstash-shim-token'
    let shim: UpstashShim | null = null
    const server = createServer((req, res) => {
      void shim?.handle(req, res)
    })
    shim = new UpstashShim(server, redis, token, options.redisUrl)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return shim
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    await this.redis.close().catch(() => {})
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method !== 'POST') return send(405, { error: 'Method not allowed' })
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { error: 'Unauthorized' })
    let payload: unknown
    try {
      payload = JSON.parse(await readBody(req))
    } catch {
      return send(400, { error: 'ERR failed to parse command' })
    }
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64'
    const path = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? ''
    const wrap = (result: Reply) => ({ result: base64 ? encodeBase64(result) : result })

    if (path === '' || path === '/') {
      if (!isCommand(payload)) return send(400, { error: 'ERR command must be a non-empty array' })
      try {
        return send(200, wrap(await this.run(payload.map(String))))
      } catch (error) {
        return send(400, { error: errorText(error) })
      }
    }
    if (path === '/pipeline' || path === '/multi-exec') {
      if (!Array.isArray(payload) || !payload.every(isCommand)) {
        return send(400, { error: 'ERR body must be a list of commands' })
      }
      const commands = payload.map((command) => command.map(String))
      if (path === '/pipeline') {
        const results = []
        for (const command of commands) {
          try {
            results.push(wrap(await this.run(command)))
          } catch (error) {
            results.push({ error: errorText(error) })
          }
        }
        return send(200, results)
      }
      try {
        const multi = this.redis.multi()
        for (const command of commands) multi.addCommand(command)
        const replies = (await multi.exec()) as unknown as Reply[]
        return send(
          200,
          replies.map((reply) => wrap(reply)),
        )
      } catch (error) {
        return send(400, { error: errorText(error) })
      }
    }
    return send(404, { error: 'Not found' })
  }

  private async run(command: string[]): Promise<Reply> {
    if (!isBlocking(command)) return (await this.redis.sendCommand(command)) as Reply
    // A blocking read holds its connection until it returns: give it one of its own.
    const own = createClient({ url: this.redisUrl, disableOfflineQueue: true }) as RedisClientType
    own.on('error', () => {})
    try {
      await own.connect()
      return (await own.sendCommand(command)) as Reply
    } finally {
      await own.close().catch(() => own.destroy())
    }
  }
}

const errorText = (error: unknown) =>
  error instanceof Error ? error.message || error.name : 'ERR unknown error'
