import { z } from 'zod'
import { BackgroundColorSchema, SessionIdSchema, StatusFontSchema, StatusTypeSchema } from './schemas.js'

/**
 * The command catalog: everything the API asks of the connector that owns a session.
 * Both sides validate against it (the API before sending, the connector before running, and the
 * API again on the reply), so a version skew shows up as a clear error instead of bad data.
 * Timeouts are the longest the API waits before answering 504; they cover the WhatsApp round trips
 * the command makes (sending a status waits for the server ack).
 */
const SessionOnly = z.object({ sessionId: SessionIdSchema })
const Ok = z.object({ ok: z.literal(true) })

const StatusSendInput = z.object({
  sessionId: SessionIdSchema,
  type: StatusTypeSchema,
  /** Text body, stored upload filename, or media URL, by `type`. */
  content: z.string().min(1),
  caption: z.string().optional(),
  targetNumbers: z.array(z.string().regex(/^\d{6,20}$/)),
  backgroundColor: BackgroundColorSchema.optional(),
  font: StatusFontSchema.optional(),
})

export const commands = {
  'session.start': { input: SessionOnly, reply: Ok, timeoutMs: 10_000 },
  'session.restart': { input: SessionOnly, reply: Ok, timeoutMs: 10_000 },
  'session.stop': { input: SessionOnly, reply: Ok, timeoutMs: 10_000 },
  /** Stops the socket, logs out when linked and wipes auth state; the API deletes the rest. */
  'session.delete': {
    input: SessionOnly,
    reply: z.object({ loggedOut: z.boolean() }),
    timeoutMs: 15_000,
  },
  'session.requestPairingCode': {
    input: SessionOnly,
    reply: z.object({ pairingCode: z.string(), phoneNumber: z.string() }),
    timeoutMs: 30_000,
    // A second request while one runs is refused (409) by the session itself, as the docs say.
    concurrent: true,
  },
  'status.send': {
    input: StatusSendInput,
    reply: z.object({
      statusId: z.string(),
      waMessageId: z.string(),
      contactCount: z.number().int(),
      type: StatusTypeSchema,
    }),
    // Fetching URL media (≤ 30 s), the LID lookup (≤ 10 s), preparing the stanza
    // (STATUS_PREPARE_TIMEOUT_MS, 60 s) and waiting for the ack (STATUS_ACK_TIMEOUT_MS, 30 s).
    timeoutMs: 150_000,
    // Posting twice is what users would notice most: the first outcome is stored where a
    // connector taking the session over finds it, and a redelivery answers from there.
    durable: true,
    // A send waits for WhatsApp's ack (seconds); the next send of the session need not wait for it.
    concurrent: true,
  },
  /**
   * Starts a big audience's send (more than STATUS_JOB_THRESHOLD numbers) as a job and answers once
   * the status and its job are stored; the chunks go out afterwards, reported per chunk in the job.
   */
  'status.startJob': {
    input: StatusSendInput,
    reply: z.object({
      jobId: z.string(),
      statusId: z.string(),
      waMessageId: z.string(),
      recipientsTotal: z.number().int(),
      chunksTotal: z.number().int(),
    }),
    // Fetching URL media (≤ 30 s) and storing the rows; the sending itself is the job's.
    timeoutMs: 60_000,
    // A redelivered start must not start a second job: its first reply is kept.
    durable: true,
    concurrent: true,
  },
  /** Deletes a sent status on the phones of its audience (a protocol revoke, acked by the server). */
  'status.revoke': {
    input: z.object({
      sessionId: SessionIdSchema,
      statusId: z.string().min(1),
      waMessageId: z.string().min(1),
      targetNumbers: z.array(z.string().regex(/^\d{6,20}$/)),
    }),
    reply: z.object({ revoked: z.literal(true) }),
    // The LID lookup (≤ 10 s), writing the stanza (STATUS_PREPARE_TIMEOUT_MS) and the ack (30 s).
    timeoutMs: 120_000,
    // Sending a revoke twice is harmless; it need not wait for the session's other sends.
    concurrent: true,
  },
} as const

/** Whether a command's first outcome is kept in the database (see `durable` above). */
export const isDurable = (name: CommandName): boolean => 'durable' in commands[name]

/**
 * Whether a command may run beside other concurrent commands of its session. The others (start,
 * restart, stop, delete) change the session's socket and run alone: everything queued before them
 * finishes first, and nothing queued after them starts until they are done. Commands always start
 * in the order they were queued.
 */
export const isConcurrent = (name: string): boolean =>
  Object.hasOwn(commands, name) && 'concurrent' in commands[name as CommandName]

export type Commands = typeof commands
export type CommandName = keyof Commands
export type CommandInput<N extends CommandName> = z.infer<Commands[N]['input']>
export type CommandReply<N extends CommandName> = z.infer<Commands[N]['reply']>

/** A command as it travels on the bus. `id` makes handling idempotent across redeliveries. */
export interface CommandEnvelope<N extends CommandName = CommandName> {
  id: string
  name: N
  input: CommandInput<N>
  /** Epoch ms after which the caller has stopped waiting; the connector may skip stale commands. */
  deadline: number
  /** The id of the API request that sent it, so the connector's log lines can be tied to it. */
  requestId?: string
}

/** What a caller tells about a command besides its input. */
export interface CommandMeta {
  requestId?: string | undefined
}

/** A reply as it travels back: the data, or an error code + message from the error model. */
export type ReplyEnvelope =
  | { ok: true; data: unknown }
  | { ok: false; error: { code: string; message: string } }

export const isCommandName = (name: string): name is CommandName => Object.hasOwn(commands, name)
