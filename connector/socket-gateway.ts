import type { Server as HttpServer } from 'node:http'
import { Server } from 'socket.io'
import type { Bus, Unsubscribe } from '../shared/bus/types.js'
import type { ClientToServerEvents, ServerToClientEvents } from '../shared/events.js'
import { apiKeyFromHeaders, apiKeyMatches } from '../shared/security/api-key.js'

export type EventsServer = Server<ClientToServerEvents, ServerToClientEvents>

/**
 * Socket.IO on the API's port. Every event published on the bus (by the API or a connector) is
 * re-emitted to every authenticated client; each payload carries its `sessionId` so clients filter.
 */
export class SocketGateway {
  readonly io: EventsServer
  private unsubscribe: Unsubscribe | null = null

  constructor(
    httpServer: HttpServer,
    private readonly bus: Bus,
    apiKey: string,
  ) {
    this.io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
      serveClient: false,
      // Clients from any origin may connect: the API key, not the origin, is what authorises them.
      cors: { origin: true, credentials: false },
    })
    this.io.use((socket, next) => {
      const fromAuth = typeof socket.handshake.auth?.apiKey === 'string' ? socket.handshake.auth.apiKey : null
      const candidate =
        fromAuth ??
        apiKeyFromHeaders((name) => {
          const value = socket.handshake.headers[name]
          return Array.isArray(value) ? value[0] : value
        })
      apiKeyMatches(candidate, apiKey).then(
        (ok) => next(ok ? undefined : new Error('Invalid or missing API key')),
        () => next(new Error('Invalid or missing API key')),
      )
    })
  }

  start(): void {
    this.unsubscribe = this.bus.subscribe((message) => {
      // The event map ties each name to its payload; the union is checked where messages are built.
      this.io.emit(message.event, message.payload as never)
    })
  }

  async stop(): Promise<void> {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.io.disconnectSockets(true)
    // Closing the io server also closes the HTTP server it is attached to; the caller owns that.
    this.io.engine.close()
  }
}
