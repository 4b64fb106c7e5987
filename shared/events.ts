import type { AuthMethod, SessionState, StatusType, Viewer } from './schemas.js'

export type StatusJobState = 'running' | 'completed' | 'partial' | 'failed' | 'cancelled'

/** Where a chunked send stands: the payload of `status-send-progress` and the core of GET /api/jobs/{id}. */
export interface StatusJobProgress {
  sessionId: string
  jobId: string
  statusId: string
  waMessageId: string
  state: StatusJobState
  recipientsTotal: number
  recipientsSent: number
  recipientsFailed: number
  chunksTotal: number
  chunksSent: number
  chunksFailed: number
}

/**
 * The Socket.IO event map: every event the server emits, each carrying `sessionId`.
 * Payloads follow the API docs; extra fields are additive.
 */
export interface ServerEvents {
  'connection-status': {
    sessionId: string
    connected: boolean
    status: SessionState
    ownNumber: string | null
    error?: string
  }
  'pairing-code': { sessionId: string; pairingCode: string; phoneNumber: string; authMethod: 'pairing' }
  'pairing-code-error': { sessionId: string; error: string }
  'qr-code': { sessionId: string; qrCode: string; authMethod: 'qrcode' }
  'qr-code-error': { sessionId: string; error: string }
  'status-sent': {
    sessionId: string
    /** Same as `statusId`; v2 names it `id`. */
    id: string
    statusId: string
    type: StatusType
    content: string
    caption: string
    timestamp: string
    waMessageId: string
    contactCount: number
    targetNumbers: string
  }
  'status-viewers-update': {
    sessionId: string
    statusId: string
    /** All viewers of the status so far, first view time each. */
    viewers: Viewer[]
    /** The viewers this update adds. */
    newViewers: Viewer[]
  }
  /** A big audience's send (a job) after each chunk settled, and once more when it finished. */
  'status-send-progress': StatusJobProgress
  'status-deleted': { sessionId: string; statusId: string }
  'statuses-updated': { sessionId: string; message: string; action: 'cleanup' | 'sent' | 'deleted' }
  'session-created': {
    sessionId: string
    sessionName: string
    phoneNumber: string | null
    authMethod: AuthMethod
    createdAt: string
  }
  'session-deleted': { sessionId: string }
}

export type EventName = keyof ServerEvents

export type EventMessage = { [E in EventName]: { event: E; payload: ServerEvents[E] } }[EventName]

/** Socket.IO typing: server → client events are plain listeners of the payloads above. */
export type ServerToClientEvents = { [E in EventName]: (payload: ServerEvents[E]) => void }
// biome-ignore lint/complexity/noBannedTypes: clients send nothing to the server
export type ClientToServerEvents = {}

/** Every event name at run time (webhook subscriptions are checked against it). */
export const EVENT_NAMES = [
  'connection-status',
  'pairing-code',
  'pairing-code-error',
  'qr-code',
  'qr-code-error',
  'status-sent',
  'status-viewers-update',
  'status-send-progress',
  'status-deleted',
  'statuses-updated',
  'session-created',
  'session-deleted',
] as const satisfies readonly EventName[]

// A name added to ServerEvents but not to EVENT_NAMES fails to compile here.
const everyEventNamed: Exclude<EventName, (typeof EVENT_NAMES)[number]> extends never ? true : never = true
void everyEventNamed
