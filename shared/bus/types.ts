import type { CommandEnvelope, CommandInput, CommandName, CommandReply } from '../commands.js'
import type { EventMessage } from '../events.js'

/** Runs one command for a session the handler owns; throws `AppError` for domain failures. */
export type CommandHandler = (command: CommandEnvelope) => Promise<unknown>

export type Unsubscribe = () => void

/**
 * The command bus between the API and the connectors, and the event fan-out to Socket.IO.
 * Embedded mode uses the in-process adapter; distributed mode a Redis one. Behaviour is the same:
 * `send` validates input and reply against the command catalog and throws `AppError('timeout')`
 * when no reply arrives in the command's timeout.
 */
export interface Bus {
  send<N extends CommandName>(sessionId: string, name: N, input: CommandInput<N>): Promise<CommandReply<N>>
  /** Registers the connector's handler for commands of sessions it owns. */
  serve(handler: CommandHandler): Unsubscribe
  publish(message: EventMessage): Promise<void>
  subscribe(listener: (message: EventMessage) => void): Unsubscribe
  close(): Promise<void>
}
