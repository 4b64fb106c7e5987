import type { SessionRecord, StatusJobRecord, StatusRecord } from '../../shared/db/types.js'
import { iso } from '../../shared/presenters.js'
import type { SessionView, StatusView } from '../../shared/schemas.js'
import { jobProgress } from '../../shared/status-jobs.js'

/** Records → the shapes clients see, for what only the API presents. Times become ISO strings. */

export { iso }

/** `iso` of a time that may be absent. */
export const isoOrNull = (time: number | null) => (time === null ? null : iso(time))

export const isConnected = (session: Pick<SessionRecord, 'state'>) => session.state === 'open'

export const toSessionView = (session: SessionRecord): SessionView => {
  const connected = isConnected(session)
  return {
    sessionId: session.id,
    sessionName: session.name,
    authMethod: session.authMethod,
    phoneNumber: session.phoneNumber,
    connected,
    status: session.state,
    ownNumber: session.ownNumber,
    // Linking codes mean nothing once linked (v1: "null if connected").
    pairingCode: connected ? null : session.pairingCode,
    qrCode: connected ? null : session.qrCode,
    lastError: session.lastError,
    connectorId: session.connectorId,
    createdAt: iso(session.createdAt),
    updatedAt: iso(session.updatedAt),
  }
}

export const toStatusView = (status: StatusRecord & { viewerCount: number }): StatusView => ({
  id: status.id,
  type: status.type,
  content: status.content,
  caption: status.caption,
  timestamp: iso(status.createdAt),
  waMessageId: status.waMessageId,
  contactCount: status.contactCount,
  targetNumbers: status.targetNumbers,
  state: status.state,
  error: status.error,
  expiresAt: iso(status.expiresAt),
  viewerCount: status.viewerCount,
  backgroundColor: status.backgroundColor,
  font: status.font,
})

export { toViewer } from '../../shared/presenters.js'

/** A big audience's send as GET /api/jobs/{jobId} answers it: counts, then each chunk's outcome. */
export const toJobView = (job: StatusJobRecord) => {
  const { sessionId, jobId, statusId, waMessageId, state, ...counts } = jobProgress(job)
  return {
    jobId,
    sessionId,
    statusId,
    waMessageId,
    state,
    ...counts,
    chunkSize: job.chunkSize,
    chunks: job.chunks.map((chunk, index) => ({
      index,
      size: chunk.size,
      state: chunk.state,
      attempts: chunk.attempts,
      error: chunk.error,
      sentAt: isoOrNull(chunk.sentAt),
    })),
    error: job.error,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    finishedAt: isoOrNull(job.finishedAt),
  }
}
