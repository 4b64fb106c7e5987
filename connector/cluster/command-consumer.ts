import type { RedisClientType } from '@redis/client'
import type { Logger } from 'pino'
import { toAppError } from '../../shared/bus/in-process.js'
import { CONNECTOR_GROUP, EVENT_MAX_AGE_MS, REPLY_TTL_MS, RedisKeys } from '../../shared/bus/redis-keys.js'
import {
  type CommandEnvelope,
  type CommandName,
  isConcurrent,
  type ReplyEnvelope,
} from '../../shared/commands.js'
import type { EventMessage } from '../../shared/events.js'
import { errorMessage, type StreamEntry, toEntries, toStreams } from './redis-replies.js'
import { SessionLane } from './session-lane.js'

export interface CommandConsumerDeps {
  /** For replies, acks and group management. */
  redis: RedisClientType
  /** A connection of its own: it spends its time blocked in XREADGROUP. */
  reader: RedisClientType
  connectorId: string
  handle(command: CommandEnvelope): Promise<unknown>
  /** Events born in the API, to broadcast; each reaches exactly one connector. */
  relay(message: EventMessage): void
  logger: Logger
  clock?: () => number
  /** How long one XREADGROUP blocks before looking again (it is woken early on changes). */
  blockMs?: number
  /** How long `stop` waits for running commands to finish before it lets them go. */
  drainMs?: number
}

const COMMAND_PREFIX = RedisKeys.commands('')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref())

/**
 * Reads the command streams of the sessions this connector holds, plus the API's event stream,
 * with one blocking XREADGROUP on a dedicated connection. Commands of one session start in stream
 * order (see `SessionLane`: lifecycle commands alone, sends side by side); each gets its reply
 * (LPUSH on the command's reply key) and is acked in the same MULTI. A session taken over from a dead connector first gets that connector's pending
 * commands (XAUTOCLAIM), so none is lost; handlers are idempotent on the command id.
 */
export class CommandConsumer {
  private readonly sessions = new Set<string>()
  private readonly lanes = new Map<string, SessionLane>()
  private running = false
  private loop: Promise<void> | null = null
  private readerId: string | null = null
  private readonly clock: () => number
  private readonly blockMs: number

  constructor(private readonly deps: CommandConsumerDeps) {
    this.clock = deps.clock ?? Date.now
    this.blockMs = deps.blockMs ?? 5_000
    deps.reader.on('ready', () => {
      this.readerId = null
    })
  }

  get held(): number {
    return this.sessions.size
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    await this.ensureGroup(RedisKeys.events).catch(() => {})
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    await this.wake()
    await this.loop
    // Running commands get a moment to finish and answer; one that hangs (a send waiting on a
    // dead WhatsApp connection) must not hold the shutdown up. Unanswered, it stays pending in
    // the stream and the next owner answers it from the command log.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.idle(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.deps.drainMs ?? 5_000)
      }),
    ])
    clearTimeout(timer)
  }

  /** Starts reading a session's commands: first the ones a previous owner left unacknowledged. */
  async add(sessionId: string): Promise<void> {
    const key = RedisKeys.commands(sessionId)
    await this.ensureGroup(key)
    const reclaimed = await this.reclaim(key)
    this.sessions.add(sessionId)
    for (const entry of reclaimed) this.dispatch(sessionId, entry)
    await this.wake()
  }

  /** Stops reading a session's commands; what is still queued stays pending for the next owner. */
  remove(sessionId: string): void {
    if (!this.sessions.delete(sessionId)) return
    void this.wake()
  }

  /** Whether the session has commands queued or running here. */
  busy(sessionId: string): boolean {
    return this.lanes.get(sessionId)?.busy ?? false
  }

  /** Resolves once every queued command of every session has run. */
  async idle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.idle()))
  }

  private async run(): Promise<void> {
    const { reader, connectorId } = this.deps
    while (this.running) {
      const keys = [RedisKeys.events, ...[...this.sessions].map(RedisKeys.commands)]
      let raw: unknown
      try {
        this.readerId ??= String(await reader.sendCommand(['CLIENT', 'ID']))
        raw = await reader.sendCommand([
          'XREADGROUP',
          'GROUP',
          CONNECTOR_GROUP,
          connectorId,
          'COUNT',
          '100',
          'BLOCK',
          String(this.blockMs),
          'STREAMS',
          ...keys,
          ...keys.map(() => '>'),
        ])
      } catch (error) {
        if (!this.running) break
        this.readerId = null
        if (/NOGROUP/i.test(errorMessage(error))) {
          // Redis came back empty: the groups are rebuilt here, the streams by the next XADD.
          await Promise.allSettled(keys.map((key) => this.ensureGroup(key)))
        } else {
          await sleep(200)
        }
        continue
      }
      for (const { stream, entries } of toStreams(raw)) {
        if (stream === RedisKeys.events) {
          for (const entry of entries) void this.relay(entry)
        } else if (stream.startsWith(COMMAND_PREFIX)) {
          const sessionId = stream.slice(COMMAND_PREFIX.length)
          for (const entry of entries) this.dispatch(sessionId, entry)
        }
      }
    }
  }

  /** Ends the current blocking read early, so a changed set of sessions is read at once. */
  private async wake(): Promise<void> {
    const id = this.readerId
    if (!id) return
    await this.deps.redis.sendCommand(['CLIENT', 'UNBLOCK', id]).catch(() => {})
  }

  private async ensureGroup(key: string): Promise<void> {
    try {
      // From the start of the stream: a command queued before any connector held the session
      // (the API's `session.start` right after creating it) must still be seen.
      await this.deps.redis.sendCommand(['XGROUP', 'CREATE', key, CONNECTOR_GROUP, '0', 'MKSTREAM'])
    } catch (error) {
      if (!/BUSYGROUP/i.test(errorMessage(error))) throw error
    }
  }

  private async reclaim(key: string): Promise<StreamEntry[]> {
    const entries: StreamEntry[] = []
    let cursor = '0-0'
    // Bounded: a stream holds at most its MAXLEN entries.
    for (let round = 0; round < 20; round++) {
      const reply = (await this.deps.redis.sendCommand([
        'XAUTOCLAIM',
        key,
        CONNECTOR_GROUP,
        this.deps.connectorId,
        '0',
        cursor,
        'COUNT',
        '100',
      ])) as unknown[]
      entries.push(...toEntries(reply[1]))
      cursor = String(reply[0])
      if (cursor === '0-0') break
    }
    return entries
  }

  private dispatch(sessionId: string, entry: StreamEntry): void {
    let lane = this.lanes.get(sessionId)
    if (!lane) {
      const created = new SessionLane(() => {
        if (this.lanes.get(sessionId) === created) this.lanes.delete(sessionId)
      })
      this.lanes.set(sessionId, created)
      lane = created
    }
    lane.push(!isConcurrent(String(entry.fields.name)), () => this.process(sessionId, entry))
  }

  private async process(sessionId: string, entry: StreamEntry): Promise<void> {
    // Given up meanwhile: left pending, so the next owner runs it.
    if (!this.sessions.has(sessionId)) return
    const stream = RedisKeys.commands(sessionId)
    const { id, name, input, deadline, requestId } = entry.fields
    let command: CommandEnvelope
    try {
      command = {
        id: String(id),
        name: String(name) as CommandName,
        input: JSON.parse(String(input)),
        deadline: Number(deadline),
        ...(requestId ? { requestId: String(requestId) } : {}),
      } as CommandEnvelope
    } catch {
      await this.ack(stream, entry.id)
      return
    }
    if (!command.id || (command.deadline && command.deadline < this.clock())) {
      // The caller has stopped waiting and answered 504; running it now would surprise them.
      await this.ack(stream, entry.id)
      return
    }
    let reply: ReplyEnvelope
    try {
      reply = { ok: true, data: await this.deps.handle(command) }
    } catch (error) {
      const appError = toAppError(error)
      reply = { ok: false, error: { code: appError.code, message: appError.message } }
    }
    const replyKey = RedisKeys.reply(command.id)
    try {
      await this.deps.redis
        .multi()
        .addCommand(['LPUSH', replyKey, JSON.stringify(reply)])
        .addCommand(['PEXPIRE', replyKey, String(REPLY_TTL_MS)])
        .addCommand(['XACK', stream, CONNECTOR_GROUP, entry.id])
        .exec()
    } catch (error) {
      this.deps.logger.warn(
        { sessionId, command: command.name, reason: errorMessage(error) },
        'command reply not delivered',
      )
    }
  }

  private async ack(stream: string, entryId: string): Promise<void> {
    await this.deps.redis.sendCommand(['XACK', stream, CONNECTOR_GROUP, entryId]).catch(() => {})
  }

  private async relay(entry: StreamEntry): Promise<void> {
    const { event, payload, at } = entry.fields
    try {
      if (Number(at) >= this.clock() - EVENT_MAX_AGE_MS && event && payload) {
        this.deps.relay({ event, payload: JSON.parse(payload) } as EventMessage)
      }
    } catch {
      // A malformed entry is dropped; it is acked below so it is not read again.
    }
    await this.ack(RedisKeys.events, entry.id)
  }
}
