import type { CommandMeta } from '../../shared/commands.js'
import type { SessionRecord } from '../../shared/db/types.js'
import { appError } from '../../shared/errors.js'
import type { AuthMethod } from '../../shared/schemas.js'
import {
  afterCommand,
  errorSummary,
  publishSafely,
  releaseUnusedMedia,
  requireSession,
  type ServiceContext,
} from './context.js'
import { jsonPerSource } from './prepared-json.js'
import { isConnected, iso, toSessionView } from './views.js'

/** `GET /api/sessions`, serialized once per read-model snapshot. */
const sessionListAnswer = jsonPerSource((sessions: SessionRecord[]) => ({
  success: true as const,
  data: sessions.map(toSessionView),
}))

/** Fresh reads: a command acts on the stored state, not on a copy a connector wrote past. */
const FRESH = { fresh: true } as const

export interface CreateSessionInput {
  sessionId: string
  sessionName: string
  authMethod: AuthMethod
  phoneNumber?: string | undefined
}

/** Session lifecycle as the API sees it: stored rows plus commands to the connector that owns them. */
export class SessionService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Stores the session, announces it, then asks the connector to start it. The session exists once
   * stored: a connector that is down or slow only shows as `started: false` (the connector picks
   * stored sessions up when it starts), never as a failed create.
   */
  async create(input: CreateSessionInput, meta: CommandMeta = {}) {
    const { repos, commands, logger } = this.ctx
    const session = await repos.sessions.create({
      id: input.sessionId,
      name: input.sessionName,
      authMethod: input.authMethod,
      phoneNumber: input.phoneNumber ?? null,
      state: 'created',
      ownNumber: null,
      ownJid: null,
      ownLid: null,
      pairingCode: null,
      qrCode: null,
      lastError: null,
      createdAt: this.ctx.clock(),
    })
    const createdAt = iso(session.createdAt)
    await publishSafely(this.ctx, {
      event: 'session-created',
      payload: {
        sessionId: session.id,
        sessionName: session.name,
        phoneNumber: session.phoneNumber,
        authMethod: session.authMethod,
        createdAt,
      },
    })
    let started = true
    try {
      await commands.send(session.id, 'session.start', { sessionId: session.id }, meta)
    } catch (error) {
      started = false
      logger.warn({ sessionId: session.id, error: errorSummary(error) }, 'session start failed')
    } finally {
      afterCommand(this.ctx)
    }
    return {
      sessionId: session.id,
      sessionName: session.name,
      phoneNumber: session.phoneNumber,
      authMethod: session.authMethod,
      createdAt,
      started,
      message: 'Session created successfully',
    }
  }

  /** The answer of `GET /api/sessions`, as JSON bytes. */
  async listAnswer() {
    return sessionListAnswer(await this.ctx.repos.sessions.list())
  }

  /** The sessions among `allowed` (a scoped key's), as the list shows them. */
  async listFor(allowed: ReadonlySet<string>) {
    return (await this.ctx.repos.sessions.list()).filter((s) => allowed.has(s.id)).map(toSessionView)
  }

  /** The same without waiting: undefined when the list has to be read first. */
  peekListAnswer() {
    const sessions = this.ctx.repos.sessions.peekList?.()
    return sessions && sessionListAnswer(sessions)
  }

  /**
   * Stops the socket and wipes auth through the connector, then removes everything stored for the
   * session. When no connector answers the data is still removed: deleting is what the user asked
   * for, and a connector that later finds no row stops the session.
   */
  async delete(sessionId: string, meta: CommandMeta = {}) {
    const { repos, commands, logger } = this.ctx
    await requireSession(this.ctx, sessionId, FRESH)
    try {
      await commands.send(sessionId, 'session.delete', { sessionId }, meta)
    } catch (error) {
      logger.warn({ sessionId, error: errorSummary(error) }, 'connector did not confirm session delete')
    } finally {
      afterCommand(this.ctx)
    }
    const statuses = await repos.statuses.deleteAllForSession(sessionId)
    await repos.audiences.deleteAllForSession(sessionId)
    await repos.scheduled.deleteAllForSession(sessionId)
    await repos.statusJobs.deleteAllForSession(sessionId)
    await repos.webhooks.deleteAllForSession(sessionId)
    await repos.contacts.deleteAllForSession(sessionId)
    await repos.lidMap.deleteForSession(sessionId)
    await repos.sessions.delete(sessionId)
    await releaseUnusedMedia(
      this.ctx,
      statuses.flatMap((status) => (status.mediaFilename ? [status.mediaFilename] : [])),
    )
    await publishSafely(this.ctx, { event: 'session-deleted', payload: { sessionId } })
    return { sessionId, message: 'Session deleted successfully' }
  }

  async restart(sessionId: string, meta: CommandMeta = {}) {
    await requireSession(this.ctx, sessionId, FRESH)
    try {
      await this.ctx.commands.send(sessionId, 'session.restart', { sessionId }, meta)
    } finally {
      afterCommand(this.ctx)
    }
    return { sessionId, message: 'Session restarted successfully' }
  }

  /** Allowed at any time (v1); the number only matters for pairing before the session is linked. */
  async updatePhoneNumber(sessionId: string, phoneNumber: string) {
    await requireSession(this.ctx, sessionId, FRESH)
    const updated = await this.ctx.repos.sessions.update(sessionId, { phoneNumber })
    if (!updated) throw appError('sessionNotFound')
    return { sessionId, phoneNumber, message: 'Phone number updated successfully' }
  }

  async connectionStatus(sessionId: string) {
    const view = toSessionView(await requireSession(this.ctx, sessionId))
    return {
      sessionId: view.sessionId,
      connected: view.connected,
      status: view.status,
      authMethod: view.authMethod,
      pairingCode: view.pairingCode,
      qrCode: view.qrCode,
      phoneNumber: view.phoneNumber,
      ownNumber: view.ownNumber,
      lastError: view.lastError,
      connectorId: view.connectorId,
    }
  }

  async pairingCode(sessionId: string) {
    const view = toSessionView(await requireSession(this.ctx, sessionId))
    return {
      sessionId: view.sessionId,
      pairingCode: view.pairingCode,
      phoneNumber: view.phoneNumber,
      connected: view.connected,
    }
  }

  async requestPairingCode(sessionId: string, meta: CommandMeta = {}) {
    const session = await requireSession(this.ctx, sessionId, FRESH)
    if (isConnected(session)) throw appError('alreadyConnected')
    if (session.authMethod !== 'pairing') throw appError('notPairingSession')
    if (!session.phoneNumber) throw appError('phoneNotSet')
    let reply: { pairingCode: string; phoneNumber: string }
    try {
      reply = await this.ctx.commands.send(sessionId, 'session.requestPairingCode', { sessionId }, meta)
    } finally {
      afterCommand(this.ctx)
    }
    return {
      sessionId,
      pairingCode: reply.pairingCode,
      phoneNumber: reply.phoneNumber,
      message: 'New pairing code generated',
    }
  }

  async qrCode(sessionId: string) {
    const view = toSessionView(await requireSession(this.ctx, sessionId))
    return {
      sessionId: view.sessionId,
      qrCode: view.qrCode,
      authMethod: view.authMethod,
      connected: view.connected,
    }
  }
}
