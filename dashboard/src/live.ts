import { io, type Socket } from 'socket.io-client'
import type {
  ClientToServerEvents,
  EventName,
  ServerEvents,
  ServerToClientEvents,
} from '../../shared/events.js'

export type LiveState = 'connecting' | 'online' | 'offline' | 'refused'

interface UntypedEmitter {
  on(event: string, listener: (payload: unknown) => void): unknown
  off(event: string, listener: (payload: unknown) => void): unknown
}

type Listener<E extends EventName> = (payload: ServerEvents[E]) => void

/**
 * The Socket.IO connection of the page. It reconnects by itself (Socket.IO's own backoff) after a
 * server restart or a network loss; `onResync` runs after every reconnect, because events sent
 * while the page was away are not replayed and lists must be read again.
 */
export class Live {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>
  private readonly stateListeners = new Set<(state: LiveState) => void>()
  private readonly resyncListeners = new Set<() => void>()
  state: LiveState = 'connecting'
  private everConnected = false

  constructor(apiKey: string, url: string | null) {
    const options = { auth: { apiKey }, reconnectionDelayMax: 5_000 }
    this.socket = url ? io(url, options) : io(options)
    this.socket.on('connect', () => {
      this.setState('online')
      if (this.everConnected) for (const listener of this.resyncListeners) listener()
      this.everConnected = true
    })
    this.socket.on('disconnect', () => this.setState('offline'))
    this.socket.on('connect_error', (error) => {
      // A refused key ends the handshake with the server's message; Socket.IO does not retry it.
      const refused = !this.socket.active
      this.setState(refused ? 'refused' : 'offline')
      if (refused) console.warn('live events refused:', error.message)
    })
  }

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    // The map types each listener by its event; Socket.IO's overloads cannot follow a generic key.
    const socket = this.socket as unknown as UntypedEmitter
    socket.on(event, listener as (payload: unknown) => void)
    return () => {
      socket.off(event, listener as (payload: unknown) => void)
    }
  }

  onState(listener: (state: LiveState) => void): () => void {
    this.stateListeners.add(listener)
    return () => this.stateListeners.delete(listener)
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener)
    return () => this.resyncListeners.delete(listener)
  }

  close(): void {
    this.socket.close()
  }

  private setState(state: LiveState): void {
    this.state = state
    for (const listener of this.stateListeners) listener(state)
  }
}
