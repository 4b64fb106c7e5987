import type { Server as HttpServer } from 'node:http'
import type { RedisClientType } from '@redis/client'
import { Server, type Socket } from 'socket.io'
import type { EventSubscriber, Unsubscribe } from '../bus/types.js'
import { Messages } from '../errors.js'
import type { ClientToServerEvents, EventMessage, ServerToClientEvents } from '../events.js'
import { rateLimitKeyForAddress } from '../net/ip-ranges.js'
import { apiKeyFromHeaders, apiKeyMatches } from '../security/api-key.js'
import { lastForwardedAddress, type RateLimiter } from '../security/rate-limit.js'
import type { ScopedKey } from '../security/scoped-keys.js'

export type EventsServer = Server<ClientToServerEvents, ServerToClientEvents>

export interface SocketGatewayOptions {
  /**
   * The REST API's limiter: a failed handshake counts in the anonymous bucket of its address, and
   * once that is used up a wrong key is told to slow down, so keys cannot be guessed here faster
   * than over REST.
   */
  rateLimiter?: RateLimiter
  /** Take the client address from X-Forwarded-For, as TRUST_PROXY does for REST. */
  trustProxy?: boolean
  /** The events this process emits to clients (none for an API that only relays through Redis). */
  events?: EventSubscriber
  /**
   * Joins the Socket.IO cluster over Redis (streams adapter): an event emitted by any member
   * reaches the clients of every member, each exactly once.
   */
  redisUrl?: string
  /**
   * Looks up scoped API keys (the app's `scopedKeys`): a client with one gets only the events of
   * the key's sessions. Without it only the admin key opens a socket.
   */
  scopedKeys?: { resolve(candidate: string | null | undefined): Promise<ScopedKey | null> | null }
  /** How often open sockets of scoped keys are checked for revocation (default 5 s). */
  recheckMs?: number
}

/** Every socket of the admin key (or a key for all sessions) is in this room. */
const EVERY_SESSION = 'sessions:*'
/** A key limited to some sessions puts its socket in one room per session. */
const sessionRoom = (sessionId: string) => `session:${sessionId}`

type Handshake = Socket['handshake']

const header = (headers: Handshake['headers'], name: string) => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * The streams adapter reads the cluster's stream with a blocking XREAD on duplicates of the client
 * it is given, and retries a failed read at once, without a pause. A fail-fast duplicate rejects
 * every read while Redis is down without ever yielding to the event loop, so that retry loop would
 * freeze the whole process (HTTP, WhatsApp sockets, the reconnect to Redis itself) for good. Its
 * duplicates queue their read instead, until Redis is back; publishing, on the client itself,
 * keeps failing fast.
 */
const withQueueingDuplicates = (client: RedisClientType): RedisClientType => {
  const duplicate = client.duplicate.bind(client)
  client.duplicate = ((overrides = {}) =>
    duplicate({ ...overrides, disableOfflineQueue: false })) as RedisClientType['duplicate']
  return client
}

/**
 * Socket.IO on the process's HTTP port (the embedded product, the Node API, each connector). Every
 * event of `events` is emitted to every client of the admin key and to clients of scoped keys for
 * its session; each payload carries its `sessionId`. With `redisUrl` the servers form one cluster,
 * so a client may attach to any.
 */
export class SocketGateway {
  readonly io: EventsServer
  private unsubscribe: Unsubscribe | null = null
  private redis: RedisClientType | null = null

  constructor(
    httpServer: HttpServer,
    apiKey: string,
    private readonly options: SocketGatewayOptions = {},
  ) {
    this.io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
      serveClient: false,
      // Clients from any origin may connect: the API key, not the origin, is what authorises them.
      cors: { origin: true, credentials: false },
    })
    const { rateLimiter, trustProxy = false } = options
    const clientOf = (handshake: Handshake) => {
      const forwarded = trustProxy ? lastForwardedAddress(header(handshake.headers, 'x-forwarded-for')) : null
      const address = forwarded ?? handshake.address
      return address ? rateLimitKeyForAddress(address) : 'unknown'
    }
    /**
     * The rooms the socket joins (and the scoped key it came with, checked again later) when the
     * handshake may go on, else the connect error's message.
     */
    const admission = async (
      handshake: Handshake,
    ): Promise<{ rooms: string[]; scopedKey?: string } | string> => {
      const fromAuth = typeof handshake.auth?.apiKey === 'string' ? handshake.auth.apiKey : null
      const candidate = fromAuth ?? apiKeyFromHeaders((name) => header(handshake.headers, name))
      if (await apiKeyMatches(candidate, apiKey)) return { rooms: [EVERY_SESSION] }
      const scoped = await options.scopedKeys?.resolve(candidate)
      if (scoped && candidate) {
        const rooms = scoped.sessionIds === null ? [EVERY_SESSION] : [...scoped.sessionIds].map(sessionRoom)
        return { rooms, scopedKey: candidate }
      }
      if (!rateLimiter) return Messages.unauthorized
      const decision = await rateLimiter.hit('anonymous', clientOf(handshake))
      return decision.allowed ? Messages.unauthorized : Messages.rateLimited
    }
    this.io.use((socket, next) => {
      admission(socket.handshake).then(
        (admitted) => {
          if (typeof admitted === 'string') return next(new Error(admitted))
          socket.data.rooms = admitted.rooms
          socket.data.scopedKey = admitted.scopedKey
          next()
        },
        () => next(new Error(Messages.unauthorized)),
      )
    })
    this.io.on('connection', (socket) => {
      void socket.join(socket.data.rooms as string[])
    })
  }

  private recheckTimer: NodeJS.Timeout | null = null

  /**
   * Sockets of scoped keys are checked again every `recheckMs`: one whose key was revoked is sent
   * away (a server-side disconnect, which clients do not retry), so revocation reaches open sockets.
   */
  private async recheckScopedSockets(): Promise<void> {
    const resolver = this.options.scopedKeys
    if (!resolver) return
    for (const socket of this.io.of('/').sockets.values()) {
      const candidate = socket.data.scopedKey as string | undefined
      if (!candidate) continue
      const key = await Promise.resolve(resolver.resolve(candidate)).catch(() => undefined)
      // A lookup that failed (database down) keeps the socket: only a known revocation ends it.
      if (key === null) socket.disconnect(true)
    }
  }

  async start(): Promise<void> {
    if (this.options.scopedKeys) {
      this.recheckTimer = setInterval(() => void this.recheckScopedSockets(), this.options.recheckMs ?? 5_000)
      this.recheckTimer.unref?.()
    }
    if (this.options.redisUrl) {
      // Its own connection, failing fast while Redis is down: a broadcast then still reaches this
      // server's clients at once, and the others when Redis is back.
      // Loaded only by cluster members: the embedded product has no use for a Redis client.
      const [{ createAdapter }, { connectWithin, createRedisClient }] = await Promise.all([
        import('@socket.io/redis-streams-adapter'),
        import('./node-redis.js'),
      ])
      this.redis = createRedisClient(this.options.redisUrl)
      await connectWithin(this.redis, 2_000)
      this.io.adapter(createAdapter(withQueueingDuplicates(this.redis), { maxLen: 10_000 }))
    }
    this.unsubscribe =
      this.options.events?.subscribe((message) => {
        this.emit(message)
      }) ?? null
  }

  /** Emits one event to every client of the cluster (the relay of events born in the API). */
  emit(message: EventMessage): void {
    // Socket.IO serializes a broadcast before it looks for recipients: a viewer update carries
    // the status's whole list, and a burst of views would serialize thousands of them per batch
    // for nobody. Alone (no cluster), a server without clients has nobody to tell.
    if (!this.redis && this.io.of('/').sockets.size === 0) return
    // The event map ties each name to its payload; the union is checked where messages are built.
    this.io
      .to([EVERY_SESSION, sessionRoom(message.payload.sessionId)])
      .emit(message.event, message.payload as never)
  }

  async stop(): Promise<void> {
    if (this.recheckTimer) clearInterval(this.recheckTimer)
    this.recheckTimer = null
    this.unsubscribe?.()
    this.unsubscribe = null
    // Only the transports are closed (a websocket close frame, a `close` packet or a dropped poll),
    // so clients see a transport close and reconnect by themselves once the product is back. A
    // Socket.IO-level disconnect (`disconnectSockets`) would tell them the server sent them away on
    // purpose, and socket.io-client never reconnects after that. Closing the io server itself would
    // also close the HTTP server it is attached to; the caller owns that.
    this.io.engine.close()
    // Ends the adapter's stream polling (it holds a connection of its own) before ours closes.
    await Promise.resolve(this.io.of('/').adapter.close?.()).catch(() => {})
    await this.redis?.close().catch(() => {})
    this.redis = null
  }
}
