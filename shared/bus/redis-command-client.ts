import {
  type CommandInput,
  type CommandMeta,
  type CommandName,
  type CommandReply,
  commands,
  type ReplyEnvelope,
} from '../commands.js'
import { AppError, appError, isErrorCode, Messages } from '../errors.js'
import type { EventMessage } from '../events.js'
import type { RedisCommands } from '../redis/types.js'
import { COMMAND_STREAM_MAXLEN, EVENT_STREAM_MAXLEN, RedisKeys } from './redis-keys.js'
import { ENQUEUE_COMMAND } from './redis-scripts.js'

export interface RedisCommandClientOptions {
  /** Scales every command timeout (tests shorten them). */
  timeoutScale?: number
  clock?: () => number
  newId?: () => string
}

const busDown = () => appError('busUnavailable')

/** How long a lost wait for a reply is retried (about the longest reconnect delay of a connection). */
const REPLY_RETRIES = 20
const REPLY_RETRY_PAUSE_MS = 100

/**
 * The API's side of the Redis bus: queues a command on the session's stream and waits for the
 * owning connector's reply (BLPOP on the command's own reply key), with the command's timeout.
 * Runs over any `RedisCommands` (TCP on Node, Upstash REST on Workers).
 *
 * Outcomes: the reply; 503 when no connector is alive or Redis cannot be reached (either way the
 * command is not queued); 504 when nobody answered in time, or Redis failed once the command was
 * queued (a connector may have run it). Never a success that did not happen, and never a "try
 * again" for a command that may have happened.
 */
export class RedisCommandClient {
  private readonly clock: () => number
  private readonly newId: () => string

  constructor(
    private readonly redis: RedisCommands,
    private readonly options: RedisCommandClientOptions = {},
  ) {
    this.clock = options.clock ?? Date.now
    this.newId = options.newId ?? (() => crypto.randomUUID())
  }

  async send<N extends CommandName>(
    sessionId: string,
    name: N,
    input: CommandInput<N>,
    meta: CommandMeta = {},
  ): Promise<CommandReply<N>> {
    const spec = commands[name]
    const parsed = spec.input.safeParse(input)
    if (!parsed.success) throw new AppError('bad_request', parsed.error.issues[0]?.message ?? 'Invalid input')
    const timeoutMs = Math.max(1, Math.round(spec.timeoutMs * (this.options.timeoutScale ?? 1)))
    const id = this.newId()
    const deadline = this.clock() + timeoutMs

    let queued: unknown
    try {
      queued = await this.redis.evalScript(
        ENQUEUE_COMMAND,
        [RedisKeys.commands(sessionId), RedisKeys.connectors, RedisKeys.lease(sessionId)],
        [
          id,
          name,
          JSON.stringify(parsed.data),
          deadline,
          COMMAND_STREAM_MAXLEN,
          sessionId,
          RedisKeys.placement,
          meta.requestId ?? '',
        ],
      )
    } catch {
      throw busDown()
    }
    if (Number(queued) !== 1) throw appError('connectorUnavailable')

    let popped: unknown
    for (let retries = 0; ; retries++) {
      try {
        // BLPOP takes seconds; fractions are fine on Redis ≥ 6.
        const waitMs = Math.max(1, deadline - this.clock())
        popped = await this.redis.callBlocking(['BLPOP', RedisKeys.reply(id), (waitMs / 1000).toFixed(3)])
        break
      } catch {
        // Queued already: a connector may be running it (a status may be out), so never a 503.
        // Right after Redis comes back, a connection of the blocking pool may still be waiting to
        // reconnect while the one that queued the command is up: the reply is looked for again.
        if (retries >= REPLY_RETRIES) throw appError('busLostReply')
        await new Promise((resolve) => setTimeout(resolve, REPLY_RETRY_PAUSE_MS))
      }
    }
    if (!Array.isArray(popped) || typeof popped[1] !== 'string') {
      throw appError('connectorTimeout')
    }
    const envelope = parseEnvelope(popped[1])
    if (!envelope.ok) {
      const code = isErrorCode(envelope.error.code) ? envelope.error.code : 'internal'
      throw new AppError(code, code === 'internal' ? Messages.internal : envelope.error.message)
    }
    const reply = spec.reply.safeParse(envelope.data)
    if (!reply.success) throw new AppError('internal', `Invalid reply for ${name}`)
    return reply.data as CommandReply<N>
  }
}

const parseEnvelope = (raw: string): ReplyEnvelope => {
  try {
    const value = JSON.parse(raw) as ReplyEnvelope
    if (value && typeof value === 'object' && typeof value.ok === 'boolean') return value
  } catch {}
  return { ok: false, error: { code: 'internal', message: Messages.internal } }
}

/**
 * Events born in the API go to a stream one connector relays to every Socket.IO client (the
 * API may run on Workers, with no Socket.IO server of its own).
 */
export class RedisEventPublisher {
  constructor(
    private readonly redis: RedisCommands,
    private readonly clock: () => number = Date.now,
  ) {}

  async publish(message: EventMessage): Promise<void> {
    await this.redis.call([
      'XADD',
      RedisKeys.events,
      'MAXLEN',
      '~',
      EVENT_STREAM_MAXLEN,
      '*',
      'event',
      message.event,
      'payload',
      JSON.stringify(message.payload),
      'at',
      this.clock(),
    ])
  }
}
