import type { Logger } from 'pino'
import { toAppError } from '../shared/bus/in-process.js'
import {
  type CommandEnvelope,
  type CommandInput,
  type CommandName,
  type CommandReply,
  commands,
  isCommandName,
  isDurable,
  type ReplyEnvelope,
} from '../shared/commands.js'
import type { Repositories } from '../shared/db/types.js'
import { AppError, appError } from '../shared/errors.js'
import { LruMap } from './lru.js'
import type { SessionRuntime } from './session-runtime.js'

export interface SessionManagerDeps {
  repos: Repositories
  logger: Logger
  now: () => number
  createRuntime: (sessionId: string) => SessionRuntime
  /** How many recent command ids are remembered for idempotency. */
  recentCommands?: number
  /** Stored on each session this manager adopts (split mode), so the API can name the owner. */
  connectorId?: string | null
}

/** Sessions in these states were stopped on purpose or unlinked: a restart must not revive them. */
const NOT_RESTORED = new Set(['closed', 'logged_out'])

/**
 * The connector's sessions and its command entry point. Commands are validated against the catalog
 * and handled idempotently: a redelivered command id gets the result of the first delivery (the
 * same promise while it is still running). Durable commands (a status send) also record their
 * first outcome in the database, so a connector that takes a session over from one that died
 * answers a redelivery from there instead of posting the status a second time.
 *
 * It is also what the cluster membership drives in split mode (`SessionHost`): sessions are
 * adopted when their lease is won and dropped when it is lost.
 */
export class SessionManager {
  private readonly runtimes = new Map<string, SessionRuntime>()
  private readonly recent: LruMap<string, Promise<unknown>>
  private accepting = true

  constructor(private readonly deps: SessionManagerDeps) {
    this.recent = new LruMap(deps.recentCommands ?? 1_000)
  }

  get size(): number {
    return this.runtimes.size
  }

  runtime(sessionId: string): SessionRuntime | undefined {
    return this.runtimes.get(sessionId)
  }

  /** The bus handler. */
  readonly handle = (command: CommandEnvelope): Promise<unknown> => {
    if (!this.accepting) return Promise.reject(appError('connectorUnavailable'))
    const previous = this.recent.get(command.id)
    if (previous) return previous
    const started = performance.now()
    const result = this.run(command)
    this.recent.set(command.id, result)
    // One line per command, tied to the API request that sent it; never its input (status text).
    const logged = (outcome: string) =>
      this.deps.logger.info(
        {
          commandId: command.id,
          command: command.name,
          sessionId: command.input.sessionId,
          ...(command.requestId ? { requestId: command.requestId } : {}),
          outcome,
          ms: Math.round(performance.now() - started),
        },
        'command handled',
      )
    // Kept for redeliveries; the caller handles the rejection, the cache must not count as unhandled.
    result.then(
      () => logged('ok'),
      (error: unknown) => logged(error instanceof AppError ? error.code : 'error'),
    )
    return result
  }

  /**
   * Brings back every stored session that was linked or linking, without re-linking them. Returns
   * once they are queued: their logins then start at the pace the connector allows (linked
   * sessions first), so start-up and the HTTP API do not wait for them.
   */
  async restore(): Promise<number> {
    const sessions = (await this.deps.repos.sessions.list()).filter((s) => !NOT_RESTORED.has(s.state))
    // Stable sort: linked sessions (they have an own JID) before those still linking.
    sessions.sort((a, b) => Number(!a.ownJid) - Number(!b.ownJid))
    for (const session of sessions) this.getOrCreate(session.id).resume(session)
    return sessions.length
  }

  /** Refuses new commands, then closes every socket without logging out. */
  async stopAll(): Promise<void> {
    this.accepting = false
    const runtimes = [...this.runtimes.values()]
    this.runtimes.clear()
    await Promise.all(
      runtimes.map((runtime) =>
        runtime.stop({ persist: false }).catch((error) => {
          this.deps.logger.error({ err: error, sessionId: runtime.sessionId }, 'stopping a session failed')
        }),
      ),
    )
  }

  // ── split mode: what the cluster membership asks (connector/cluster/cluster-member.ts) ───────

  /** Sessions that should hold a socket somewhere (stored, not stopped or unlinked), with their last owner. */
  async wantedSessions(): Promise<{ sessionId: string; connectorId: string | null }[]> {
    return (await this.deps.repos.sessions.list())
      .filter((session) => !NOT_RESTORED.has(session.state))
      .map((session) => ({ sessionId: session.id, connectorId: session.connectorId }))
  }

  /**
   * The lease is ours: the session is taken up here, and when it is meant to run its login is
   * queued at the same pace as a restore (a dead connector's sessions arrive all at once). Returns
   * once queued, so the placement round that adopts hundreds of sessions is not held up.
   */
  async adopt(sessionId: string): Promise<void> {
    const session = await this.deps.repos.sessions.get(sessionId)
    if (!session) return
    const runtime = this.getOrCreate(sessionId)
    if (this.deps.connectorId) {
      await this.deps.repos.sessions.update(sessionId, { connectorId: this.deps.connectorId })
    }
    if (!NOT_RESTORED.has(session.state)) runtime.resume(session)
  }

  /** The lease is gone: the socket closes at once, without logging out and without a state change. */
  async drop(sessionId: string): Promise<void> {
    const runtime = this.runtimes.get(sessionId)
    if (!runtime) return
    this.runtimes.delete(sessionId)
    await runtime.stop({ persist: false })
  }

  /** Whether a socket, linking or a pending reconnect still needs this connector. */
  needsOwner(sessionId: string): boolean {
    return this.runtimes.get(sessionId)?.isActive ?? false
  }

  private async run(command: CommandEnvelope): Promise<unknown> {
    if (!isCommandName(command.name)) throw appError('unknownCommand', command.name)
    if (command.deadline && command.deadline < this.deps.now()) {
      // The caller has answered 504 already; doing the work now would surprise them.
      throw appError('connectorTimeout')
    }
    const parsed = commands[command.name].input.safeParse(command.input)
    if (!parsed.success) throw new AppError('bad_request', parsed.error.issues[0]?.message ?? 'Invalid input')
    const input = parsed.data as CommandInput<CommandName>
    if (!isDurable(command.name)) return this.dispatch(command.name, input)

    const { commandLog } = this.deps.repos
    const earlier = await commandLog.begin({
      id: command.id,
      sessionId: input.sessionId,
      name: command.name,
      createdAt: this.deps.now(),
    })
    if (earlier) return answerFrom(earlier.state === 'done' ? (earlier.reply as ReplyEnvelope) : null)
    let reply: ReplyEnvelope
    try {
      reply = { ok: true, data: await this.dispatch(command.name, input) }
    } catch (error) {
      const appError = toAppError(error)
      reply = { ok: false, error: { code: appError.code, message: appError.message } }
    }
    await commandLog
      .finish(command.id, reply, this.deps.now())
      .catch((error) =>
        this.deps.logger.error({ err: error, command: command.name }, 'recording a command outcome failed'),
      )
    return answerFrom(reply)
  }

  private async dispatch<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandReply<N>> {
    const { sessionId } = input
    switch (name) {
      case 'session.start': {
        await (await this.getOrCreateExisting(sessionId)).start()
        return { ok: true } as CommandReply<N>
      }
      case 'session.restart': {
        await (await this.getOrCreateExisting(sessionId)).restart()
        return { ok: true } as CommandReply<N>
      }
      case 'session.stop': {
        const runtime = await this.getOrCreateExisting(sessionId)
        this.runtimes.delete(sessionId)
        await runtime.stop({ persist: true })
        return { ok: true } as CommandReply<N>
      }
      case 'session.delete': {
        // The API may already have removed the row: deleting works from the runtime alone.
        const runtime = this.getOrCreate(sessionId)
        this.runtimes.delete(sessionId)
        return (await runtime.delete()) as CommandReply<N>
      }
      case 'session.requestPairingCode':
        return (await (await this.getOrCreateExisting(sessionId)).requestPairingCode()) as CommandReply<N>
      case 'status.send': {
        const runtime = this.runtimes.get(sessionId)
        if (!runtime) {
          await this.assertExists(sessionId)
          throw appError('notConnected')
        }
        return (await runtime.sendStatus(input as CommandInput<'status.send'>)) as CommandReply<N>
      }
      case 'status.startJob': {
        const runtime = this.runtimes.get(sessionId)
        if (!runtime) {
          await this.assertExists(sessionId)
          throw appError('notConnected')
        }
        return (await runtime.startStatusJob(input as CommandInput<'status.startJob'>)) as CommandReply<N>
      }
      case 'status.revoke': {
        const runtime = this.runtimes.get(sessionId)
        if (!runtime) {
          await this.assertExists(sessionId)
          throw appError('notConnected')
        }
        return (await runtime.revokeStatus(input as CommandInput<'status.revoke'>)) as CommandReply<N>
      }
    }
    throw appError('unknownCommand', name)
  }

  private getOrCreate(sessionId: string): SessionRuntime {
    let runtime = this.runtimes.get(sessionId)
    if (!runtime) {
      runtime = this.deps.createRuntime(sessionId)
      this.runtimes.set(sessionId, runtime)
    }
    return runtime
  }

  private async getOrCreateExisting(sessionId: string): Promise<SessionRuntime> {
    const existing = this.runtimes.get(sessionId)
    if (existing) return existing
    await this.assertExists(sessionId)
    return this.getOrCreate(sessionId)
  }

  private async assertExists(sessionId: string): Promise<void> {
    if (!(await this.deps.repos.sessions.get(sessionId))) throw appError('sessionNotFound')
  }
}

/**
 * A stored outcome as the caller sees it. No outcome means a connector took the command up and
 * stopped before it finished: whether WhatsApp got it is unknown, so it is not tried again.
 */
const answerFrom = (reply: ReplyEnvelope | null): unknown => {
  if (!reply) throw appError('commandInterrupted')
  if (reply.ok) return reply.data
  throw toAppError(reply.error)
}
