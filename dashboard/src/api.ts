import type { ContactReach, DayTotals } from '../../api/services/session-analytics.js'
import type { StatusAnalytics } from '../../api/services/status-analytics.js'
import type { StatusJobProgress } from '../../shared/events.js'
import type { SessionView, StatusView, Viewer } from '../../shared/schemas.js'

// The analytics shapes are the API's own (type imports: no server code reaches the bundle).
export type { ContactReach, DayTotals, StatusAnalytics }

export interface Webhook {
  webhookId: string
  url: string
  events: string[]
  sessionId: string | null
  description: string | null
  active: boolean
  createdAt: string
}

export interface ApiKeyInfo {
  keyId: string
  name: string
  keyPrefix: string
  scopes: ('read' | 'send' | 'admin')[]
  sessionIds: string[] | null
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export interface WebhookDeliveryInfo {
  deliveryId: string
  event: string
  state: 'pending' | 'delivering' | 'delivered' | 'failed'
  attempts: number
  createdAt: string
  error: string | null
}

/** A refusal or failure as the API words it (`{ success: false, error }`), with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface Stats {
  totalSessions: number
  connectedSessions: number
  totalStatuses: number
  totalViewers: number
  lastStatusSent: string | null
}

export interface Storage {
  databaseBytes: number | null
  sessions: { sessionId: string; authKeys: number; authBytes: number; statuses: number; viewers: number }[]
}

export interface SendResult {
  statusId: string
  message: string
  waMessageId: string
  contactCount: number
}

/** A big audience's send answered 202: the connector sends it chunk by chunk. */
export interface JobStarted {
  jobId: string
  statusId: string
  waMessageId: string
  recipientsTotal: number
  chunksTotal: number
  state: 'running'
  message: string
}

export interface ContactAnalytics {
  statuses: number
  since: string | null
  unresolvedViews: number
  contacts: ContactReach[]
}

export interface SavedAudience {
  audienceId: string
  name: string
  size: number
  numbers: string[]
}

export interface ScheduledStatus {
  scheduledId: string
  sendAt: string
  repeat: 'none' | 'daily' | 'weekly'
  state: 'scheduled' | 'sending' | 'done' | 'missed' | 'failed' | 'cancelled'
  type: string
  sentCount: number
  lastError: string | null
}

export interface UploadLink {
  filename: string
  uploadUrl: string
  method: 'PUT'
  headers: Record<string, string>
  expiresAt: string
}

export interface SendStatusInput {
  type: 'text' | 'image' | 'video' | 'url'
  content: string
  caption?: string
  targetNumbers?: string
  backgroundColor?: string
  font?: number
}

const NETWORK_ERROR = 'The server could not be reached. Check that it is running.'

/**
 * The REST API with the key of this browser. Every call resolves to the envelope's `data` or
 * throws an ApiError; a 401 also tells the app (the key is wrong or was rotated).
 */
export class Api {
  constructor(
    private readonly key: string,
    private readonly onUnauthorized: () => void,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response
    try {
      response = await fetch(path, {
        method,
        headers: {
          'x-api-key': this.key,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch {
      throw new ApiError(0, NETWORK_ERROR)
    }
    const json = (await response.json().catch(() => null)) as { data?: T; error?: string } | null
    if (response.status === 401) this.onUnauthorized()
    if (!response.ok || !json) {
      throw new ApiError(response.status, json?.error ?? `The server answered ${response.status}`)
    }
    return json.data as T
  }

  sessions = () => this.call<SessionView[]>('GET', '/api/sessions')
  createSession = (body: Record<string, string>) => this.call<unknown>('POST', '/api/sessions', body)
  deleteSession = (id: string) => this.call<unknown>('DELETE', `/api/sessions/${encodeURIComponent(id)}`)
  restartSession = (id: string) =>
    this.call<unknown>('POST', `/api/sessions/${encodeURIComponent(id)}/restart`)
  updatePhone = (id: string, phoneNumber: string) =>
    this.call<unknown>('PUT', `/api/sessions/${encodeURIComponent(id)}/phone-number`, { phoneNumber })
  requestPairingCode = (id: string) =>
    this.call<{ pairingCode: string }>('POST', `/api/sessions/${encodeURIComponent(id)}/request-pairing-code`)
  statuses = (id: string) =>
    this.call<StatusView[]>('GET', `/api/sessions/${encodeURIComponent(id)}/sent-statuses`)
  viewers = (id: string, statusId: string) =>
    this.call<Viewer[]>(
      'GET',
      `/api/sessions/${encodeURIComponent(id)}/status-viewers/${encodeURIComponent(statusId)}`,
    )
  sendStatus = (id: string, body: SendStatusInput) =>
    this.call<SendResult | JobStarted>('POST', `/api/sessions/${encodeURIComponent(id)}/send-status`, body)
  job = (jobId: string) => this.call<StatusJobProgress>('GET', `/api/jobs/${encodeURIComponent(jobId)}`)
  deleteStatus = (id: string, statusId: string, forEveryone = false) =>
    this.call<unknown>(
      'DELETE',
      `/api/sessions/${encodeURIComponent(id)}/delete-status/${encodeURIComponent(statusId)}${forEveryone ? '?forEveryone=true' : ''}`,
    )
  analytics = (id: string, statusId: string) =>
    this.call<StatusAnalytics>(
      'GET',
      `/api/sessions/${encodeURIComponent(id)}/analytics/statuses/${encodeURIComponent(statusId)}`,
    )

  contacts = (id: string, sort: 'most-viewed' | 'least-viewed', last = 20) =>
    this.call<ContactAnalytics>(
      'GET',
      `/api/sessions/${encodeURIComponent(id)}/analytics/contacts?last=${last}&sort=${sort}&limit=10`,
    )
  daily = (id: string, days = 14) =>
    this.call<{ days: DayTotals[] }>(
      'GET',
      `/api/sessions/${encodeURIComponent(id)}/analytics/daily?days=${days}`,
    )

  /** Every viewer of a status as the API's CSV. */
  async viewersCsv(id: string, statusId: string): Promise<Blob> {
    const path = `/api/sessions/${encodeURIComponent(id)}/status-viewers/${encodeURIComponent(statusId)}?format=csv`
    let response: Response
    try {
      response = await fetch(path, { headers: { 'x-api-key': this.key } })
    } catch {
      throw new ApiError(0, NETWORK_ERROR)
    }
    if (!response.ok) {
      const json = (await response.json().catch(() => null)) as { error?: string } | null
      if (response.status === 401) this.onUnauthorized()
      throw new ApiError(response.status, json?.error ?? `The server answered ${response.status}`)
    }
    return response.blob()
  }

  syncedContacts = (id: string) =>
    this.call<{ number: string; name: string | null }[]>(
      'GET',
      `/api/sessions/${encodeURIComponent(id)}/contacts`,
    )
  audiences = (id: string) =>
    this.call<SavedAudience[]>('GET', `/api/sessions/${encodeURIComponent(id)}/audiences`)
  saveAudience = (id: string, name: string, numbers: string[]) =>
    this.call<SavedAudience>('POST', `/api/sessions/${encodeURIComponent(id)}/audiences`, {
      name,
      numbers: numbers.join(','),
    })

  scheduleStatus = (
    id: string,
    body: SendStatusInput & { sendAt: string; repeat: 'none' | 'daily' | 'weekly' },
  ) => this.call<ScheduledStatus>('POST', `/api/sessions/${encodeURIComponent(id)}/send-status`, body)
  scheduled = (id: string) =>
    this.call<ScheduledStatus[]>('GET', `/api/sessions/${encodeURIComponent(id)}/scheduled-statuses`)
  cancelScheduled = (id: string, scheduledId: string) =>
    this.call<unknown>(
      'DELETE',
      `/api/sessions/${encodeURIComponent(id)}/scheduled-statuses/${encodeURIComponent(scheduledId)}`,
    )

  apiKeys = () => this.call<ApiKeyInfo[]>('GET', '/api/keys')
  createApiKey = (body: { name: string; scopes: string[]; sessionIds?: string[] }) =>
    this.call<ApiKeyInfo & { key: string }>('POST', '/api/keys', body)
  revokeApiKey = (keyId: string) => this.call<unknown>('DELETE', `/api/keys/${encodeURIComponent(keyId)}`)

  webhooks = () => this.call<Webhook[]>('GET', '/api/webhooks')
  createWebhook = (body: { url: string; events: string[]; sessionId?: string }) =>
    this.call<Webhook & { secret: string }>('POST', '/api/webhooks', body)
  setWebhookActive = (webhookId: string, active: boolean) =>
    this.call<Webhook>('PATCH', `/api/webhooks/${encodeURIComponent(webhookId)}`, { active })
  deleteWebhook = (webhookId: string) =>
    this.call<unknown>('DELETE', `/api/webhooks/${encodeURIComponent(webhookId)}`)
  deliveries = (webhookId: string) =>
    this.call<WebhookDeliveryInfo[]>(
      'GET',
      `/api/webhooks/${encodeURIComponent(webhookId)}/deliveries?limit=10`,
    )
  redeliver = (webhookId: string, deliveryId: string) =>
    this.call<WebhookDeliveryInfo>(
      'POST',
      `/api/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`,
    )

  stats = () => this.call<Stats>('GET', '/api/stats')
  storage = () => this.call<Storage>('GET', '/api/storage')
  /** An uploaded file's bytes, or null once it is gone (deleted, or never stored here). */
  async media(filename: string): Promise<Blob | null> {
    const response = await fetch(`/api/uploads/${encodeURIComponent(filename)}`, {
      headers: { 'x-api-key': this.key },
    })
    if (response.status === 404) return null
    if (!response.ok) throw new ApiError(response.status, `The server answered ${response.status}`)
    return response.blob()
  }

  uploadLink = (kind: 'image' | 'video', file: File) =>
    this.call<UploadLink>('POST', '/api/uploads', { type: kind, contentType: file.type, size: file.size })

  /**
   * Uploads a file and resolves to its stored name: a signed link and one PUT when the API offers
   * one for this type and the browser can reach it, the multipart form otherwise. XMLHttpRequest, because fetch reports no
   * upload progress.
   */
  async upload(kind: 'image' | 'video', file: File, onProgress: (fraction: number) => void): Promise<string> {
    let link: UploadLink | null = null
    try {
      link = await this.uploadLink(kind, file)
    } catch (error) {
      // A type the link cannot declare (or a size over the limit) is refused the same way by the
      // form; anything else (no link support, a network hiccup) is worth the form's try.
      if (error instanceof ApiError && (error.status === 401 || error.status === 413)) throw error
    }
    if (link) {
      try {
        await send(link.method, link.uploadUrl, link.headers, file, onProgress)
        return link.filename
      } catch (error) {
        // Status 0: the browser could not reach the link at all, typically an S3 bucket without
        // CORS for this page; the form goes through the API instead. A refusal is final.
        if (!(error instanceof ApiError) || error.status !== 0) throw error
        onProgress(0)
      }
    }
    const form = new FormData()
    form.append(kind, file, file.name)
    const answer = await send('POST', `/api/upload-${kind}`, { 'x-api-key': this.key }, form, onProgress)
    const filename = (answer as { data?: { filename?: string } } | null)?.data?.filename
    if (!filename) throw new ApiError(500, 'The upload did not return a filename')
    return filename
  }
}

const send = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Blob | FormData,
  onProgress: (fraction: number) => void,
): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const request = new XMLHttpRequest()
    request.open(method, url)
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value)
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total)
    }
    request.onerror = () => reject(new ApiError(0, NETWORK_ERROR))
    request.onload = () => {
      let json: { error?: string } | null = null
      try {
        json = request.responseText ? JSON.parse(request.responseText) : null
      } catch {
        // S3 answers XML; its status says enough.
      }
      if (request.status >= 200 && request.status < 300) {
        onProgress(1)
        resolve(json)
      } else reject(new ApiError(request.status, json?.error ?? `The upload was refused (${request.status})`))
    }
    request.send(body)
  })
