import type { CommandInput, CommandMeta } from '../../shared/commands.js'
import type {
  ScheduledStatusRecord,
  ScheduleRepeat,
  SessionRecord,
  StatusRecord,
  ViewerRecord,
} from '../../shared/db/types.js'
import { appError } from '../../shared/errors.js'
import { randomHex } from '../../shared/random.js'
import type { StatusType } from '../../shared/schemas.js'
import { isAllContacts, parseTargetNumbers } from '../../shared/schemas.js'
import { SAFE_MEDIA_NAME } from '../../shared/storage/types.js'
import { savedAudienceNumbers, syncedContactNumbers } from './audience-service.js'
import {
  afterCommand,
  publishSafely,
  releaseUnusedMedia,
  requireSession,
  type ServiceContext,
} from './context.js'
import { type PageRequest, pageOf } from './pages.js'
import { jsonListPerSource, jsonPerSource } from './prepared-json.js'
import { viewersCsvStream } from './status-analytics.js'
import { verifyStoredUpload } from './upload-service.js'
import { assertPublicMediaUrl } from './url-guard.js'
import { isConnected, iso, toJobView, toStatusView, toViewer } from './views.js'

/** `GET …/sent-statuses` and `GET …/status-viewers/{id}`, serialized once per read-model list. */
const statusListAnswer = jsonPerSource((statuses: (StatusRecord & { viewerCount: number })[]) => ({
  success: true as const,
  data: statuses.map(toStatusView),
}))
const viewerListAnswer = jsonListPerSource((viewer: ViewerRecord) => toViewer(viewer))

export interface SendStatusInput {
  type: StatusType
  content: string
  caption?: string | undefined
  /** Comma-separated, already validated by the route schema. */
  targetNumbers?: string | undefined
  backgroundColor?: string | undefined
  font?: number | undefined
  /** A saved audience instead of `targetNumbers`. */
  audienceId?: string | undefined
}

const toScheduledView = (record: ScheduledStatusRecord) => ({
  scheduledId: record.id,
  sendAt: iso(record.sendAt),
  repeat: record.repeat,
  state: record.state,
  type: String(record.request.type),
  sentCount: record.sentCount,
  lastStatusId: record.lastStatusId,
  lastError: record.lastError,
})

/** Sending statuses through the connector, and reading/deleting what was sent. */
export class StatusService {
  constructor(private readonly ctx: ServiceContext) {}

  async send(sessionId: string, input: SendStatusInput, meta: CommandMeta = {}) {
    // Fresh: whether the session is connected decides between sending and a 409.
    const session = await requireSession(this.ctx, sessionId, { fresh: true })
    const command = await this.commandFor(sessionId, input)
    if (!isConnected(session)) throw appError('notConnected')
    if (command.targetNumbers.length > this.ctx.config.STATUS_JOB_THRESHOLD) {
      return this.startJob(sessionId, command, meta)
    }
    let reply: { statusId: string; waMessageId: string; contactCount: number }
    try {
      reply = await this.ctx.commands.send(sessionId, 'status.send', command, meta)
    } finally {
      afterCommand(this.ctx)
    }
    return {
      statusId: reply.statusId,
      message: 'Status successfully sent to WhatsApp',
      waMessageId: reply.waMessageId,
      contactCount: reply.contactCount,
    }
  }

  /** A big audience: the connector stores the status and its job, answers, then sends in chunks. */
  private async startJob(sessionId: string, command: CommandInput<'status.startJob'>, meta: CommandMeta) {
    try {
      const reply = await this.ctx.commands.send(sessionId, 'status.startJob', command, meta)
      return {
        ...reply,
        state: 'running' as const,
        message: `Sending to ${reply.recipientsTotal} contacts in ${reply.chunksTotal} chunks`,
      }
    } finally {
      afterCommand(this.ctx)
    }
  }

  /** A job, for the admin key or a key of its session (any other key gets the same 404). */
  async getJob(jobId: string, mayRead: (sessionId: string) => boolean) {
    const job = await this.ctx.repos.statusJobs.get(jobId)
    if (!job || !mayRead(job.sessionId)) throw appError('jobNotFound')
    return toJobView(job)
  }

  /**
   * The `status.send` command of a request. Everything about the request itself is checked before
   * the session's state: a status that could never be sent is a 400 whether or not the session
   * happens to be connected (409), or is only scheduled.
   */
  private async commandFor(sessionId: string, input: SendStatusInput): Promise<CommandInput<'status.send'>> {
    const content = input.type === 'text' ? input.content : input.content.trim()
    if (input.type === 'image' || input.type === 'video') await this.assertUploaded(content, input.type)
    if (input.type === 'url') await assertPublicMediaUrl(content, this.ctx.resolveHost)
    const audience = input.audienceId
      ? await savedAudienceNumbers(this.ctx, sessionId, input.audienceId)
      : isAllContacts(input.targetNumbers)
        ? await syncedContactNumbers(this.ctx, sessionId)
        : parseTargetNumbers(input.targetNumbers)
    const isText = input.type === 'text'
    return {
      sessionId,
      type: input.type,
      content,
      // v1: the caption is ignored for text; colour and font only exist for text.
      ...(!isText && input.caption ? { caption: input.caption } : {}),
      targetNumbers: audience,
      ...(isText && input.backgroundColor ? { backgroundColor: input.backgroundColor } : {}),
      ...(isText && input.font !== undefined ? { font: input.font } : {}),
    }
  }

  /**
   * A send for later (`sendAt`, optionally repeated): checked now like a send, stored, and sent by
   * the connector holding the session when its time comes (shared/db scheduled_statuses).
   */
  async schedule(
    sessionId: string,
    input: SendStatusInput & { sendAt: string; repeat?: ScheduleRepeat | undefined },
  ) {
    await requireSession(this.ctx, sessionId)
    const sendAt = Date.parse(input.sendAt)
    const now = this.ctx.clock()
    if (!(sendAt > now)) throw appError('sendAtInPast')
    const { sessionId: _, ...request } = await this.commandFor(sessionId, input)
    const record: ScheduledStatusRecord = {
      sessionId,
      id: `sch_${randomHex(6)}`,
      sendAt,
      request,
      repeat: input.repeat ?? 'none',
      state: 'scheduled',
      lastStatusId: null,
      lastError: null,
      sentCount: 0,
      createdAt: now,
      updatedAt: now,
    }
    await this.ctx.repos.scheduled.insert(record)
    return { ...toScheduledView(record), message: 'Status scheduled' }
  }

  async listScheduled(sessionId: string) {
    await requireSession(this.ctx, sessionId)
    return (await this.ctx.repos.scheduled.list(sessionId)).map(toScheduledView)
  }

  /** Cancels a scheduled send that has not started; one already sending or done is a 409. */
  async cancelScheduled(sessionId: string, scheduledId: string) {
    await requireSession(this.ctx, sessionId)
    const record = await this.ctx.repos.scheduled.get(sessionId, scheduledId)
    if (!record) throw appError('scheduledNotFound')
    if (!(await this.ctx.repos.scheduled.transition(sessionId, scheduledId, 'scheduled', 'cancelled'))) {
      throw appError('scheduledNotPending')
    }
    return { scheduledId, message: 'Scheduled status cancelled' }
  }

  /**
   * Statuses of the retention window, newest first (the order `listActive` returns them in), as
   * the JSON answer.
   */
  async listAnswer(sessionId: string) {
    await requireSession(this.ctx, sessionId)
    const now = this.ctx.clock()
    return this.inWindow(await this.ctx.repos.statuses.listActive(sessionId, now), now)
  }

  /** The same without waiting: undefined unless the session and its list are in memory. */
  peekListAnswer(sessionId: string) {
    if (!this.ctx.repos.sessions.peek?.(sessionId)) return undefined
    const now = this.ctx.clock()
    const statuses = this.ctx.repos.statuses.peekActive?.(sessionId, now)
    return statuses && this.inWindow(statuses, now)
  }

  private inWindow(statuses: (StatusRecord & { viewerCount: number })[], now: number) {
    return statusListAnswer(this.windowed(statuses, now))
  }

  private windowed(statuses: (StatusRecord & { viewerCount: number })[], now: number) {
    const oldest = now - this.ctx.config.STATUS_RETENTION_HOURS * 3_600_000
    // The list itself when nothing is older than the window (the usual case), so its answer stays cached.
    return statuses.every((status) => status.createdAt >= oldest)
      ? statuses
      : statuses.filter((status) => status.createdAt >= oldest)
  }

  /** One page of the retention window's statuses, newest first. */
  async listPage(sessionId: string, request: PageRequest) {
    await requireSession(this.ctx, sessionId)
    const now = this.ctx.clock()
    const statuses = this.windowed(await this.ctx.repos.statuses.listActive(sessionId, now), now)
    const page = pageOf(statuses, (status) => [status.createdAt, status.id], 'descending', request)
    return { data: page.items.map(toStatusView), nextCursor: page.nextCursor }
  }

  /** The viewers of a status, first view first, whole (CSV, analytics) or a page at a time. */
  private async viewersOf(sessionId: string, statusId: string) {
    await requireSession(this.ctx, sessionId)
    const viewers = await this.ctx.repos.viewers.listForStatus(sessionId, statusId)
    if (!viewers) throw appError('statusNotFound')
    return viewers
  }

  async viewersPage(sessionId: string, statusId: string, request: PageRequest) {
    const viewers = await this.viewersOf(sessionId, statusId)
    const page = pageOf(viewers, (viewer) => [viewer.viewedAt, viewer.jid], 'ascending', request)
    return { data: page.items.map(toViewer), nextCursor: page.nextCursor }
  }

  async viewersCsv(sessionId: string, statusId: string) {
    return viewersCsvStream(await this.viewersOf(sessionId, statusId))
  }

  /** Who viewed a status, first view first, as the JSON answer; one round trip with its 404. */
  async viewersAnswer(sessionId: string, statusId: string) {
    await requireSession(this.ctx, sessionId)
    const viewers = await this.ctx.repos.viewers.listForStatus(sessionId, statusId)
    if (!viewers) throw appError('statusNotFound')
    return viewerListAnswer(viewers)
  }

  /** The same without waiting: undefined unless the session and the status's viewers are in memory. */
  peekViewersAnswer(sessionId: string, statusId: string) {
    if (!this.ctx.repos.sessions.peek?.(sessionId)) return undefined
    const viewers = this.ctx.repos.viewers.peekForStatus?.(sessionId, statusId)
    return viewers ? viewerListAnswer(viewers) : undefined
  }

  /**
   * WhatsApp offers no way to delete a published status, so this removes only local tracking data
   * and the media file (when no other status uses it).
   */
  async delete(
    sessionId: string,
    statusId: string,
    options: { forEveryone?: boolean } = {},
    meta: CommandMeta = {},
  ) {
    const session = await requireSession(this.ctx, sessionId, { fresh: true })
    if (options.forEveryone) await this.revoke(session, statusId, meta)
    const deleted = await this.ctx.repos.statuses.delete(sessionId, statusId)
    if (!deleted) throw appError('statusNotFound')
    const released = deleted.mediaFilename
      ? await releaseUnusedMedia(this.ctx, [deleted.mediaFilename])
      : new Set()
    await publishSafely(this.ctx, { event: 'status-deleted', payload: { sessionId, statusId } })
    await publishSafely(this.ctx, {
      event: 'statuses-updated',
      payload: { sessionId, message: 'Statuses updated', action: 'deleted' },
    })
    return {
      statusId,
      message: options.forEveryone
        ? 'Status deleted for everyone and removed from local database successfully'
        : 'Status removed from local database successfully',
      deletedFromWhatsApp: options.forEveryone === true,
      deletedFromDatabase: true,
      deletedImageFile: released.size > 0,
      note: options.forEveryone
        ? "WhatsApp acknowledged the deletion; the status disappears from its audience's phones"
        : 'Status remains visible in WhatsApp app until natural 24-hour expiry',
    }
  }

  /**
   * "Delete for everyone": the connector sends WhatsApp's revoke to the status's audience and
   * answers once the server acknowledged it. Any failure stops here, with the local data kept.
   */
  private async revoke(session: SessionRecord, statusId: string, meta: CommandMeta) {
    const status = await this.ctx.repos.statuses.get(session.id, statusId)
    if (!status) throw appError('statusNotFound')
    if (status.state !== 'sent' || !status.waMessageId) throw appError('notRevocable')
    if (!isConnected(session)) throw appError('notConnected')
    try {
      await this.ctx.commands.send(
        session.id,
        'status.revoke',
        {
          sessionId: session.id,
          statusId,
          waMessageId: status.waMessageId,
          targetNumbers: parseTargetNumbers(status.targetNumbers),
        },
        meta,
      )
    } finally {
      afterCommand(this.ctx)
    }
  }

  /**
   * `content` must name a finished upload of the same kind; the name is checked before any lookup.
   * An upload PUT straight to the store (S3) was never seen by the API, so its bytes are checked
   * here the first time a status uses it (415 and removed when they are not what was declared).
   */
  private async assertUploaded(filename: string, kind: 'image' | 'video') {
    if (!SAFE_MEDIA_NAME.test(filename)) throw appError('fileNotFound')
    const upload = await this.ctx.repos.uploads.get(filename)
    if (!upload || upload.kind !== kind) throw appError('fileNotFound')
    if (upload.verified === false) return verifyStoredUpload(this.ctx, upload)
    if (!(await this.ctx.media.exists(filename))) throw appError('fileNotFound')
  }
}
