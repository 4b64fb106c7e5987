import type { CommandEnvelope, CommandInput, CommandMeta, CommandName, CommandReply } from '../commands.js'
import type { EventMessage } from '../events.js'

/** Runs one command for a session the handler owns; throws `AppError` for domain failures. */
export type CommandHandler = (command: CommandEnvelope) => Promise<unknown>

export type Unsubscribe = () => void

/**
 * The API's side of the command bus: asks the connector that owns a session to do something and
 * waits for its reply. Adapters: in-process (embedded) and Redis (split). Behaviour is the same:
 * input and reply are validated against the command catalog, `AppError('timeout')` when no reply
 * arrives in the command's timeout, `AppError('unavailable')` when no connector can take it.
 */
export interface CommandClient {
  send<N extends CommandName>(
    sessionId: string,
    name: N,
    input: CommandInput<N>,
    meta?: CommandMeta,
  ): Promise<CommandReply<N>>
}

/** The connector's side in one process: the handler for commands of the sessions it owns. */
export interface CommandServer {
  serve(handler: CommandHandler): Unsubscribe
}

/** Where events go: to every Socket.IO client (and, in split mode, through Redis to the cluster). */
export interface EventPublisher {
  publish(message: EventMessage): Promise<void>
}

/** Listeners inside a process (the Socket.IO gateway, caches that follow deletions). */
export interface EventSubscriber {
  subscribe(listener: (message: EventMessage) => void): Unsubscribe
}

/** Everything at once, in one process: what embedded mode runs on. */
export interface Bus extends CommandClient, CommandServer, EventPublisher, EventSubscriber {
  close(): Promise<void>
}

/** In-process event fan-out, for processes whose commands come from elsewhere (a connector). */
export class EventHub implements EventPublisher, EventSubscriber {
  private readonly listeners = new Set<(message: EventMessage) => void>()

  async publish(message: EventMessage): Promise<void> {
    for (const listener of this.listeners) listener(message)
  }

  subscribe(listener: (message: EventMessage) => void): Unsubscribe {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
