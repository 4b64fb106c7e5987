import type { SessionRecord, StatusRecord } from '../../shared/db/types.js'
import { iso } from '../../shared/presenters.js'
import type { SessionView, StatusView } from '../../shared/schemas.js'

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
