import { appError } from '../../shared/errors.js'
import type { StatusType, StatusView, Viewer } from '../../shared/schemas.js'
import { parseTargetNumbers } from '../../shared/schemas.js'
import { SAFE_MEDIA_NAME } from '../../shared/storage/types.js'
import { publishSafely, releaseUnusedMedia, requireSession, type ServiceContext } from './context.js'
import { verifyStoredUpload } from './upload-service.js'
import { assertPublicMediaUrl } from './url-guard.js'
import { isConnected, toStatusView, toViewer } from './views.js'

export interface SendStatusInput {
  type: StatusType
  content: string
  caption?: string | undefined
  /** Comma-separated, already validated by the route schema. */
  targetNumbers?: string | undefined
  backgroundColor?: string | undefined
  font?: number | undefined
}

/** Sending statuses through the connector, and reading/deleting what was sent. */
export class StatusService {
  constructor(private readonly ctx: ServiceContext) {}

  async send(sessionId: string, input: SendStatusInput) {
    const session = await requireSession(this.ctx, sessionId)
    // Everything about the request itself is checked before the session's state: a status that
    // could never be sent is a 400 whether or not the session happens to be connected (409).
    const content = input.type === 'text' ? input.content : input.content.trim()
    if (input.type === 'image' || input.type === 'video') await this.assertUploaded(content, input.type)
    if (input.type === 'url') await assertPublicMediaUrl(content, this.ctx.resolveHost)
    if (!isConnected(session)) throw appError('notConnected')
    const isText = input.type === 'text'
    const reply = await this.ctx.commands.send(sessionId, 'status.send', {
      sessionId,
      type: input.type,
      content,
      // v1: the caption is ignored for text; colour and font only exist for text.
      ...(!isText && input.caption ? { caption: input.caption } : {}),
      targetNumbers: parseTargetNumbers(input.targetNumbers),
      ...(isText && input.backgroundColor ? { backgroundColor: input.backgroundColor } : {}),
      ...(isText && input.font !== undefined ? { font: input.font } : {}),
    })
    return {
      statusId: reply.statusId,
      message: 'Status successfully sent to WhatsApp',
      waMessageId: reply.waMessageId,
      contactCount: reply.contactCount,
    }
  }

  /** Statuses of the retention window, newest first. */
  async list(sessionId: string): Promise<StatusView[]> {
    await requireSession(this.ctx, sessionId)
    const now = this.ctx.clock()
    const oldest = now - this.ctx.config.STATUS_RETENTION_HOURS * 3_600_000
    const statuses = await this.ctx.repos.statuses.listActive(sessionId, now)
    return statuses
      .filter((status) => status.createdAt >= oldest)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(toStatusView)
  }

  async viewers(sessionId: string, statusId: string): Promise<Viewer[]> {
    await requireSession(this.ctx, sessionId)
    const status = await this.ctx.repos.statuses.get(sessionId, statusId)
    if (!status) throw appError('statusNotFound')
    return (await this.ctx.repos.viewers.list(sessionId, statusId)).map(toViewer)
  }

  /**
   * WhatsApp offers no way to delete a published status, so this removes only local tracking data
   * and the media file (when no other status uses it).
   */
  async delete(sessionId: string, statusId: string) {
    await requireSession(this.ctx, sessionId)
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
      message: 'Status removed from local database successfully',
      deletedFromWhatsApp: false,
      deletedFromDatabase: true,
      deletedImageFile: released.size > 0,
      note: 'Status remains visible in WhatsApp app until natural 24-hour expiry',
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
