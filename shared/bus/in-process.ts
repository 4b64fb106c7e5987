import {
  type CommandEnvelope,
  type CommandInput,
  type CommandMeta,
  type CommandName,
  type CommandReply,
  commands,
} from '../commands.js'
import { AppError, appError, isErrorCode } from '../errors.js'
import type { EventMessage } from '../events.js'
import type { Bus, CommandHandler, Unsubscribe } from './types.js'

let counter = 0
const nextCommandId = () => `c${Date.now().toString(36)}-${(counter++).toString(36)}`

/**
 * Embedded-mode bus: a direct call into the connector in the same process, with the same
 * validation and timeout semantics as the Redis adapter.
 */
export class InProcessBus implements Bus {
  private handler: CommandHandler | null = null
  private readonly listeners = new Set<(message: EventMessage) => void>()

  constructor(private readonly options: { timeoutScale?: number } = {}) {}

  async send<N extends CommandName>(
    _sessionId: string,
    name: N,
    input: CommandInput<N>,
    meta: CommandMeta = {},
  ): Promise<CommandReply<N>> {
    const spec = commands[name]
    const parsed = spec.input.safeParse(input)
    if (!parsed.success) throw new AppError('bad_request', parsed.error.issues[0]?.message ?? 'Invalid input')
    const handler = this.handler
    if (!handler) throw appError('connectorUnavailable')
    const timeoutMs = Math.max(1, Math.round(spec.timeoutMs * (this.options.timeoutScale ?? 1)))
    const envelope: CommandEnvelope<N> = {
      id: nextCommandId(),
      name,
      input: parsed.data as CommandInput<N>,
      deadline: Date.now() + timeoutMs,
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(appError('connectorTimeout')), timeoutMs)
    })
    try {
      const result = await Promise.race([handler(envelope), timeout])
      const reply = spec.reply.safeParse(result)
      if (!reply.success) throw new AppError('internal', `Invalid reply for ${name}`)
      return reply.data as CommandReply<N>
    } catch (error) {
      throw toAppError(error)
    } finally {
      clearTimeout(timer)
    }
  }

  serve(handler: CommandHandler): Unsubscribe {
    this.handler = handler
    return () => {
      if (this.handler === handler) this.handler = null
    }
  }

  async publish(message: EventMessage): Promise<void> {
    for (const listener of this.listeners) listener(message)
  }

  subscribe(listener: (message: EventMessage) => void): Unsubscribe {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.handler = null
    this.listeners.clear()
  }
}

/** Keeps domain errors as they are; anything else becomes a generic internal error (no details leak). */
export const toAppError = (error: unknown): AppError => {
  if (error instanceof AppError) return error
  if (
    error &&
    typeof error === 'object' &&
    'code' in error &&
    isErrorCode(error.code) &&
    'message' in error
  ) {
    return new AppError(error.code, String(error.message))
  }
  return appError('internal')
}
