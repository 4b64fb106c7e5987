/**
 * A typed client of the WhatsApp Status Tracker API, for Node 18+, browsers and Workers (only
 * `fetch`). Request and answer types come from the same zod schemas that validate the API and
 * generate its OpenAPI document (`api/schemas.ts`), imported as types only: nothing of the server
 * ends up in a bundle. Live events: `./events.ts`.
 *
 *   const api = createClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.KEY! })
 *   const sessions = await api.sessions.list()
 */
import type { z } from 'zod'
import type {
  ApiKeyData,
  AudienceData,
  ConnectionStatusData,
  ContactData,
  ContactsData,
  CreateAudienceBody,
  CreatedKeyData,
  CreatedWebhookData,
  CreateKeyBody,
  CreateSessionBody,
  CreateSessionData,
  CreateUploadLinkBody,
  CreateWebhookBody,
  DailyData,
  DeleteStatusData,
  DeliveryData,
  HealthData,
  JobData,
  JobStartedData,
  NewPairingCodeData,
  PairingCodeData,
  QrCodeData,
  ScheduledData,
  SendStatusBody,
  SendStatusData,
  Session,
  SessionMessageData,
  StatsData,
  StatusAnalyticsData,
  StatusView,
  StorageData,
  UpdatePhoneData,
  UpdateWebhookBody,
  UploadData,
  UploadLinkData,
  Viewer,
  WebhookData,
} from '../api/schemas.js'

export type SessionInfo = z.infer<typeof Session>
export type Status = z.infer<typeof StatusView>
export type StatusViewer = z.infer<typeof Viewer>
export type CreateSessionInput = z.input<typeof CreateSessionBody>
export type SendStatusInput = Omit<z.input<typeof SendStatusBody>, 'sendAt' | 'repeat'>
export type ScheduleStatusInput = SendStatusInput &
  Required<Pick<z.input<typeof SendStatusBody>, 'sendAt'>> &
  Pick<z.input<typeof SendStatusBody>, 'repeat'>
/** A send of up to STATUS_JOB_THRESHOLD numbers, answered once WhatsApp acknowledged it. */
export type SentStatus = z.infer<typeof SendStatusData>
/** A bigger audience's send, started as a job (`'jobId' in answer` tells them apart). */
export type StartedJob = z.infer<typeof JobStartedData>
export type StatusJob = z.infer<typeof JobData>
export type ScheduledStatus = z.infer<typeof ScheduledData>
export type Audience = z.infer<typeof AudienceData>
export type StatusAnalytics = z.infer<typeof StatusAnalyticsData>
export type ContactAnalytics = z.infer<typeof ContactsData>
export type DailyAnalytics = z.infer<typeof DailyData>
export type Webhook = z.infer<typeof WebhookData>
export type CreateWebhookInput = z.input<typeof CreateWebhookBody>
export type WebhookDeliveryInfo = z.infer<typeof DeliveryData>
export type ApiKeyInfo = z.infer<typeof ApiKeyData>
export type CreateKeyInput = z.input<typeof CreateKeyBody>

/** A refusal or failure, with the API's own message (`{ success: false, error }`) and status. */
export class TrackerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'TrackerApiError'
  }
}

export interface ClientOptions {
  /** Where the API is, e.g. http://localhost:3000 (no trailing /api). */
  baseUrl: string
  apiKey: string
  /** Another fetch (tests, proxies); default: the global one. */
  fetch?: typeof fetch
}

/** A page of a list that grows; pass `nextCursor` back as `cursor` until it is null. */
export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

export interface PageOptions {
  limit: number
  cursor?: string
}

const segment = encodeURIComponent

export const createClient = ({ baseUrl, apiKey, fetch: fetchImpl = fetch }: ClientOptions) => {
  const root = baseUrl.replace(/\/+$/, '')

  const raw = async (method: string, path: string, init: { body?: BodyInit; type?: string } = {}) => {
    const response = await fetchImpl(`${root}${path}`, {
      method,
      headers: { 'x-api-key': apiKey, ...(init.type ? { 'content-type': init.type } : {}) },
      ...(init.body === undefined ? {} : { body: init.body }),
    })
    if (!response.ok) {
      const json = (await response.json().catch(() => null)) as { error?: string } | null
      throw new TrackerApiError(response.status, json?.error ?? `HTTP ${response.status}`)
    }
    return response
  }

  /** The whole envelope (`data`, and `nextCursor` on pages). */
  const envelope = async <T>(method: string, path: string, body?: unknown) => {
    const response = await raw(
      method,
      path,
      body === undefined ? {} : { body: JSON.stringify(body), type: 'application/json' },
    )
    return (await response.json()) as { data: T; nextCursor?: string | null }
  }
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await envelope<T>(method, path, body)).data
  const page = async <T>(path: string, options: PageOptions, extra = ''): Promise<Page<T>> => {
    const cursor = options.cursor ? `&cursor=${segment(options.cursor)}` : ''
    const answer = await envelope<T[]>('GET', `${path}?limit=${options.limit}${cursor}${extra}`)
    return { data: answer.data, nextCursor: answer.nextCursor ?? null }
  }
  const session = (id: string) => `/api/sessions/${segment(id)}`

  return {
    health: () => call<z.infer<typeof HealthData>>('GET', '/api/health'),
    stats: () => call<z.infer<typeof StatsData>>('GET', '/api/stats'),
    storage: () => call<z.infer<typeof StorageData>>('GET', '/api/storage'),

    sessions: {
      list: () => call<SessionInfo[]>('GET', '/api/sessions'),
      create: (input: CreateSessionInput) =>
        call<z.infer<typeof CreateSessionData>>('POST', '/api/sessions', input),
      delete: (id: string) => call<z.infer<typeof SessionMessageData>>('DELETE', session(id)),
      restart: (id: string) => call<z.infer<typeof SessionMessageData>>('POST', `${session(id)}/restart`),
      updatePhoneNumber: (id: string, phoneNumber: string) =>
        call<z.infer<typeof UpdatePhoneData>>('PUT', `${session(id)}/phone-number`, { phoneNumber }),
      connectionStatus: (id: string) =>
        call<z.infer<typeof ConnectionStatusData>>('GET', `${session(id)}/connection-status`),
      pairingCode: (id: string) =>
        call<z.infer<typeof PairingCodeData>>('GET', `${session(id)}/pairing-code`),
      requestPairingCode: (id: string) =>
        call<z.infer<typeof NewPairingCodeData>>('POST', `${session(id)}/request-pairing-code`),
      qrCode: (id: string) => call<z.infer<typeof QrCodeData>>('GET', `${session(id)}/qr-code`),
    },

    statuses: {
      /** Sent and acknowledged, or (above STATUS_JOB_THRESHOLD numbers) a job started: see `jobs.get`. */
      send: (id: string, input: SendStatusInput) =>
        call<SentStatus | StartedJob>('POST', `${session(id)}/send-status`, input),
      /** Sent by the connector at `sendAt` (ISO time), once or `repeat`ed daily or weekly. */
      schedule: (id: string, input: ScheduleStatusInput) =>
        call<ScheduledStatus & { message: string }>('POST', `${session(id)}/send-status`, input),
      scheduled: (id: string) => call<ScheduledStatus[]>('GET', `${session(id)}/scheduled-statuses`),
      cancelScheduled: (id: string, scheduledId: string) =>
        call<{ scheduledId: string; message: string }>(
          'DELETE',
          `${session(id)}/scheduled-statuses/${segment(scheduledId)}`,
        ),
      /** Statuses of the retention window, newest first: all, or a page. */
      list: (id: string) => call<Status[]>('GET', `${session(id)}/sent-statuses`),
      listPage: (id: string, options: PageOptions) => page<Status>(`${session(id)}/sent-statuses`, options),
      viewers: (id: string, statusId: string) =>
        call<StatusViewer[]>('GET', `${session(id)}/status-viewers/${segment(statusId)}`),
      viewersPage: (id: string, statusId: string, options: PageOptions) =>
        page<StatusViewer>(`${session(id)}/status-viewers/${segment(statusId)}`, options),
      /** Every viewer as CSV text (number,lid,jid,viewedAt). */
      viewersCsv: async (id: string, statusId: string) =>
        (await raw('GET', `${session(id)}/status-viewers/${segment(statusId)}?format=csv`)).text(),
      /** Locally, or with `forEveryone` on the audience's phones too (WhatsApp revoke). */
      delete: (id: string, statusId: string, options: { forEveryone?: boolean } = {}) =>
        call<z.infer<typeof DeleteStatusData>>(
          'DELETE',
          `${session(id)}/delete-status/${segment(statusId)}${options.forEveryone ? '?forEveryone=true' : ''}`,
        ),
    },

    /** Big audiences' sends: progress and each chunk's outcome. */
    jobs: {
      get: (jobId: string) => call<StatusJob>('GET', `/api/jobs/${segment(jobId)}`),
    },

    /** Saved lists of numbers, sent to with `audienceId` instead of `targetNumbers`. */
    audiences: {
      create: (id: string, input: z.input<typeof CreateAudienceBody>) =>
        call<Audience>('POST', `${session(id)}/audiences`, input),
      list: (id: string) => call<Audience[]>('GET', `${session(id)}/audiences`),
      delete: (id: string, audienceId: string) =>
        call<{ audienceId: string; message: string }>(
          'DELETE',
          `${session(id)}/audiences/${segment(audienceId)}`,
        ),
    },

    contacts: {
      /** The account's synced contacts, by number: all, or a page. */
      list: (id: string) => call<z.infer<typeof ContactData>[]>('GET', `${session(id)}/contacts`),
      listPage: (id: string, options: PageOptions) =>
        page<z.infer<typeof ContactData>>(`${session(id)}/contacts`, options),
    },

    analytics: {
      status: (id: string, statusId: string, bucket: '5m' | '1h' = '5m') =>
        call<StatusAnalytics>(
          'GET',
          `${session(id)}/analytics/statuses/${segment(statusId)}?bucket=${bucket}`,
        ),
      contacts: (id: string, options: { last?: number; sort?: 'most-viewed' | 'least-viewed' } = {}) =>
        call<ContactAnalytics>(
          'GET',
          `${session(id)}/analytics/contacts?last=${options.last ?? 10}&sort=${options.sort ?? 'most-viewed'}`,
        ),
      daily: (id: string, days = 30) =>
        call<DailyAnalytics>('GET', `${session(id)}/analytics/daily?days=${days}`),
    },

    uploads: {
      /** Multipart upload; resolves to the stored file's details (`filename` goes in `content`). */
      upload: async (kind: 'image' | 'video', file: Blob, name: string) => {
        const form = new FormData()
        form.append(kind, file, name)
        const response = await raw('POST', `/api/upload-${kind}`, { body: form })
        return ((await response.json()) as { data: z.infer<typeof UploadData> }).data
      },
      /** A signed link for one PUT of the file (straight to S3 in split deployments). */
      createLink: (input: z.input<typeof CreateUploadLinkBody>) =>
        call<z.infer<typeof UploadLinkData>>('POST', '/api/uploads', input),
      download: async (filename: string) => (await raw('GET', `/api/uploads/${segment(filename)}`)).blob(),
    },

    /** Keys limited to scopes and sessions; only the admin key may manage them. */
    keys: {
      /** The answer's `key` is shown only here. */
      create: (input: CreateKeyInput) => call<z.infer<typeof CreatedKeyData>>('POST', '/api/keys', input),
      list: () => call<ApiKeyInfo[]>('GET', '/api/keys'),
      revoke: (keyId: string) =>
        call<{ keyId: string; message: string }>('DELETE', `/api/keys/${segment(keyId)}`),
    },

    webhooks: {
      /** Registers a receiver; the answer's `secret` is shown only here (see `./webhooks.ts` to verify). */
      create: (input: CreateWebhookInput) =>
        call<z.infer<typeof CreatedWebhookData>>('POST', '/api/webhooks', input),
      list: (sessionId?: string) =>
        call<Webhook[]>('GET', `/api/webhooks${sessionId ? `?sessionId=${segment(sessionId)}` : ''}`),
      get: (webhookId: string) => call<Webhook>('GET', `/api/webhooks/${segment(webhookId)}`),
      /** URL, events, description, or `active: false` to pause it. */
      update: (webhookId: string, patch: z.input<typeof UpdateWebhookBody>) =>
        call<Webhook>('PATCH', `/api/webhooks/${segment(webhookId)}`, patch),
      delete: (webhookId: string) =>
        call<{ webhookId: string; message: string }>('DELETE', `/api/webhooks/${segment(webhookId)}`),
      /** The delivery log, newest first; `state: 'failed'` for what did not arrive. */
      deliveries: (
        webhookId: string,
        options: PageOptions & { state?: WebhookDeliveryInfo['state'] } = { limit: 50 },
      ) =>
        page<WebhookDeliveryInfo>(
          `/api/webhooks/${segment(webhookId)}/deliveries`,
          options,
          options.state ? `&state=${options.state}` : '',
        ),
      redeliver: (webhookId: string, deliveryId: string) =>
        call<WebhookDeliveryInfo>(
          'POST',
          `/api/webhooks/${segment(webhookId)}/deliveries/${segment(deliveryId)}/redeliver`,
        ),
    },
  }
}

export type TrackerClient = ReturnType<typeof createClient>
