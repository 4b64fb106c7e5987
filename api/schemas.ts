import { z } from '@hono/zod-openapi'
import { EVENT_NAMES } from '../shared/events.js'
import { declarableTypes, extensionForDeclared } from '../shared/media-types.js'
import {
  AuthMethodSchema,
  BackgroundColorSchema,
  isAllContacts,
  MAX_TARGET_NUMBERS,
  PhoneNumberSchema,
  parseTargetNumbers,
  SessionIdSchema,
  SessionStateSchema,
  SessionViewSchema,
  StatusFontSchema,
  type StatusType,
  StatusTypeSchema,
  StatusViewSchema,
  ViewerSchema,
} from '../shared/schemas.js'
import { SAFE_MEDIA_NAME } from '../shared/storage/types.js'
import { parseMediaUrl } from './services/url-guard.js'

/**
 * Request and response schemas of the HTTP API; the OpenAPI document is generated from these.
 * Schemas from shared/ may be built before @hono/zod-openapi adds `.openapi()` to zod (zod 4 copies
 * methods onto each instance when it is created), so they get metadata through zod's own `.meta()`
 * or are wrapped in a new object here.
 */

/**
 * An enum whose messages name the field; zod 4 reports a missing enum value as a bad option, so
 * without this `type` absent would read "type must be one of" instead of "type is required".
 */
const namedEnum = <const T extends string>(field: string, values: readonly [T, ...T[]]) =>
  z.enum(values as [T, ...T[]], {
    error: (issue) =>
      issue.input === undefined ? `${field} is required` : `${field} must be one of: ${values.join(', ')}`,
  })

// ---- parameters -------------------------------------------------------------------------------

const sessionIdParam = SessionIdSchema.meta({ param: { name: 'sessionId', in: 'path' }, example: 'personal' })

export const SessionParams = z.object({ sessionId: sessionIdParam })

export const StatusParams = z.object({
  sessionId: sessionIdParam,
  statusId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'statusId must be 1-64 letters, numbers, _ or -')
    .openapi({ param: { name: 'statusId', in: 'path' }, example: '1704067200000' }),
})

export const UploadParams = z.object({
  filename: z
    .string()
    .regex(SAFE_MEDIA_NAME, 'filename is not a valid upload name')
    .openapi({ param: { name: 'filename', in: 'path' }, example: '1730000000000-ab12cd34ef56ab78.jpg' }),
})

// ---- sessions ---------------------------------------------------------------------------------

export const CreateSessionBody = z
  .object({
    sessionId: SessionIdSchema.meta({ example: 'personal' }),
    sessionName: z.string().trim().min(1).max(100).openapi({ example: 'Personal WhatsApp' }),
    authMethod: AuthMethodSchema.default('pairing'),
    phoneNumber: PhoneNumberSchema.optional().meta({ example: '628123456789' }),
  })
  .superRefine((body, ctx) => {
    if (body.authMethod === 'pairing' && !body.phoneNumber) {
      ctx.addIssue({
        code: 'custom',
        path: ['phoneNumber'],
        message: 'phoneNumber is required when authMethod is "pairing"',
      })
    }
  })
  .openapi('CreateSessionRequest')

export const CreateSessionData = z.object({
  sessionId: z.string(),
  sessionName: z.string(),
  phoneNumber: z.string().nullable(),
  authMethod: AuthMethodSchema,
  createdAt: z.string(),
  started: z
    .boolean()
    .openapi({ description: 'false when no connector answered; the session exists either way' }),
  message: z.string(),
})

export const Session = z.object(SessionViewSchema.shape).openapi('Session')

export const SessionMessageData = z.object({ sessionId: z.string(), message: z.string() })

export const UpdatePhoneBody = z.object({ phoneNumber: PhoneNumberSchema.meta({ example: '628987654321' }) })

export const UpdatePhoneData = z.object({
  sessionId: z.string(),
  phoneNumber: z.string(),
  message: z.string(),
})

export const ConnectionStatusData = z.object({
  sessionId: z.string(),
  connected: z.boolean(),
  status: SessionStateSchema,
  authMethod: AuthMethodSchema,
  pairingCode: z.string().nullable(),
  qrCode: z.string().nullable().openapi({ description: 'PNG data URL while waiting for a scan' }),
  phoneNumber: z.string().nullable(),
  ownNumber: z.string().nullable(),
  lastError: z.string().nullable(),
  connectorId: z
    .string()
    .nullable()
    .openapi({ description: "The owning connector's CONNECTOR_ID (split mode); null in embedded mode" }),
})

export const PairingCodeData = z.object({
  sessionId: z.string(),
  pairingCode: z.string().nullable(),
  phoneNumber: z.string().nullable(),
  connected: z.boolean(),
})

export const NewPairingCodeData = z.object({
  sessionId: z.string(),
  pairingCode: z.string(),
  phoneNumber: z.string(),
  message: z.string(),
})

export const QrCodeData = z.object({
  sessionId: z.string(),
  qrCode: z.string().nullable(),
  authMethod: AuthMethodSchema,
  connected: z.boolean(),
})

// ---- statuses ---------------------------------------------------------------------------------

const clip = (text: string) => (text.length > 24 ? `${text.slice(0, 24)}…` : text)

// WhatsApp (and the database, which stored text cut at the first NUL) cannot carry a NUL character.
const hasNul = (text: string) => text.includes('\u0000')

/** Comma-separated phone numbers (targetNumbers, a saved audience), with the field named in messages. */
const numberList = (field: string, { allowAll = false } = {}) =>
  z
    // 50,000 numbers of up to 16 digits and a plus, with commas (the 1 MiB body limit holds first).
    .string()
    .max(1_000_000)
    .superRefine((raw, ctx) => {
      if (allowAll && isAllContacts(raw)) return
      const numbers = parseTargetNumbers(raw)
      const bad = numbers.find((number) => !/^\d{10,15}$/.test(number))
      if (bad !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${field}: "${clip(bad)}" is not a valid phone number (10-15 digits including the country code)`,
        })
      } else if (numbers.length > MAX_TARGET_NUMBERS) {
        ctx.addIssue({ code: 'custom', message: `${field}: at most ${MAX_TARGET_NUMBERS} numbers` })
      }
    })

export const SendStatusBody = z
  .object({
    type: namedEnum('type', StatusTypeSchema.options as [StatusType, ...StatusType[]]),
    content: z
      .string()
      .min(1)
      .max(65_536)
      .refine((content) => !hasNul(content), 'content must not contain NUL characters')
      .refine((content) => content.trim().length > 0, 'content must not be only whitespace')
      .openapi({ description: 'Text body, uploaded filename, or http(s) media URL, by type' }),
    caption: z
      .string()
      .max(4_096)
      .refine((caption) => !hasNul(caption), 'caption must not contain NUL characters')
      .optional()
      .openapi({ description: 'Media only; ignored for text' }),
    targetNumbers: numberList('targetNumbers', { allowAll: true })
      .optional()
      .openapi({
        description:
          'Comma-separated numbers with country code, at most ' +
          `${MAX_TARGET_NUMBERS} different ones; empty sends to your own number only; ` +
          '`"all"`: every contact the phone synced (GET …/contacts). More than STATUS_JOB_THRESHOLD ' +
          '(default 1000) are sent as a job: 202 with a jobId (GET /api/jobs/{jobId})',
        example: '628123456789,628987654321',
      }),
    backgroundColor: BackgroundColorSchema.optional().meta({ description: 'Text only', example: '#315575' }),
    font: z
      .number()
      .int()
      .refine(
        (font) => StatusFontSchema.safeParse(font).success,
        'font must be one of 0, 1, 2, 6, 7, 8, 9, 10',
      )
      .optional()
      .openapi({ description: 'Text only' }),
    audienceId: z
      .string()
      .regex(/^aud_[a-f0-9]{12}$/, 'audienceId is not an audience id')
      .optional()
      .openapi({ description: 'A saved audience to send to, instead of targetNumbers' }),
    sendAt: z
      .string()
      .refine(
        (value) => !Number.isNaN(Date.parse(value)) && /T/.test(value),
        'sendAt must be an ISO date-time',
      )
      .optional()
      .openapi({ description: 'Send later, at this time (ISO 8601): the answer is 202 with a scheduledId' }),
    repeat: z
      .enum(['none', 'daily', 'weekly'], { error: 'repeat must be one of: none, daily, weekly' })
      .optional()
      .openapi({ description: 'With sendAt: send again every day or week' }),
  })
  .superRefine((body, ctx) => {
    if (body.repeat !== undefined && body.repeat !== 'none' && body.sendAt === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['repeat'],
        message: 'repeat needs sendAt',
        params: { verbatim: true },
      })
    }
    if (body.audienceId !== undefined && body.targetNumbers?.trim()) {
      ctx.addIssue({
        code: 'custom',
        path: ['audienceId'],
        message: 'Give targetNumbers or audienceId, not both',
        params: { verbatim: true },
      })
    }
    // The URL's form is part of the request: refused here with 400 before any state is looked at
    // (an unlinked session's 409). Whether its host is public needs DNS and stays in the service.
    // Also reached when another field failed, so the content is checked for being a string.
    if (body.type !== 'url' || typeof body.content !== 'string') return
    const parsed = parseMediaUrl(body.content)
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', path: ['content'], message: parsed.message, params: { verbatim: true } })
    }
  })
  .openapi('SendStatusRequest')

export const SendStatusData = z.object({
  statusId: z.string(),
  message: z.string(),
  waMessageId: z.string(),
  contactCount: z.number().int(),
})

const jobCounts = {
  jobId: z.string(),
  statusId: z.string(),
  waMessageId: z.string().openapi({ description: 'The one message id every chunk carries' }),
  recipientsTotal: z.number().int().openapi({ description: 'Numbers addressed, your own not counted' }),
  chunksTotal: z.number().int(),
}

/** 202 of send-status for an audience above STATUS_JOB_THRESHOLD. */
export const JobStartedData = z
  .object({ ...jobCounts, state: z.literal('running'), message: z.string() })
  .openapi('StatusJobStarted')

export const JobChunk = z
  .object({
    index: z.number().int(),
    size: z.number().int(),
    state: z.enum(['pending', 'sent', 'failed']),
    attempts: z.number().int(),
    error: z.string().nullable().openapi({ description: 'The last failure, kept after a retry succeeded' }),
    sentAt: z.string().nullable(),
  })
  .openapi('StatusJobChunk')

export const JobData = z
  .object({
    ...jobCounts,
    sessionId: z.string(),
    state: z.enum(['running', 'completed', 'partial', 'failed', 'cancelled']).openapi({
      description:
        'completed: every chunk acknowledged; partial: some failed; failed: none sent; ' +
        'cancelled: the status was deleted while sending',
    }),
    recipientsSent: z.number().int(),
    recipientsFailed: z.number().int(),
    chunkSize: z.number().int(),
    chunksSent: z.number().int(),
    chunksFailed: z.number().int(),
    chunks: z.array(JobChunk),
    error: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('StatusJob')

export const JobParams = z.object({
  jobId: z
    .string()
    .regex(/^job_[a-f0-9]{16}$/, 'jobId is not a job id')
    .openapi({ param: { name: 'jobId', in: 'path' }, example: 'job_0123456789abcdef' }),
})

export const StatusView = z.object(StatusViewSchema.shape).openapi('Status')
export const Viewer = z.object(ViewerSchema.shape).openapi('Viewer')

/** `limit` and `cursor` of lists that grow; without `limit` a list is answered whole, as before. */
export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1, 'limit must be between 1 and 1000')
    .max(1000, 'limit must be between 1 and 1000')
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' }, description: 'Items per page (1-1000)', example: 100 }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: '`nextCursor` of the previous page' }),
})

export const ViewersQuery = PageQuery.extend({
  format: z
    .enum(['json', 'csv'], { error: 'format must be one of: json, csv' })
    .optional()
    .openapi({
      param: { name: 'format', in: 'query' },
      description: '`csv` (or `Accept: text/csv`): every viewer as CSV, streamed',
    }),
})

/** `nextCursor` beside `data` when a page was asked for. */
export const pageEnvelope = <T extends z.ZodType>(item: T) =>
  z.object({
    success: z.literal(true),
    data: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: 'With `limit`: the cursor of the next page, null on the last one' }),
  })

export const AnalyticsQuery = z.object({
  bucket: z
    .enum(['5m', '1h'], { error: 'bucket must be one of: 5m, 1h' })
    .default('5m')
    .openapi({ param: { name: 'bucket', in: 'query' }, description: 'Width of the views-over-time buckets' }),
})

export const StatusAnalyticsData = z
  .object({
    statusId: z.string(),
    sentAt: z.string(),
    expiresAt: z.string(),
    audienceSize: z
      .number()
      .int()
      .openapi({ description: 'Numbers the status was sent to, your own excluded' }),
    viewerCount: z
      .number()
      .int()
      .openapi({ description: 'Viewers (first view each), your own devices excluded' }),
    reachPercent: z
      .number()
      .nullable()
      .openapi({ description: 'viewerCount ÷ audienceSize × 100; null without an audience' }),
    notViewed: z.array(z.string()).openapi({ description: 'Audience numbers with no view yet' }),
    unresolvedViewers: z
      .number()
      .int()
      .openapi({ description: 'Viewers known only by LID (counted, but not matched to a number)' }),
    viewsOverTime: z.object({
      bucket: z.enum(['5m', '1h']),
      points: z.array(z.object({ start: z.string(), views: z.number().int(), total: z.number().int() })),
    }),
  })
  .openapi('StatusAnalytics')

export const ContactsQuery = PageQuery.extend({
  last: z.coerce
    .number()
    .int()
    .min(1, 'last must be between 1 and 200')
    .max(200, 'last must be between 1 and 200')
    .default(10)
    .openapi({
      param: { name: 'last', in: 'query' },
      description: 'How many of the latest sent statuses to look at',
    }),
  sort: z
    .enum(['most-viewed', 'least-viewed'], { error: 'sort must be one of: most-viewed, least-viewed' })
    .default('most-viewed')
    .openapi({
      param: { name: 'sort', in: 'query' },
      description: '`most-viewed`: who always views first; `least-viewed`: who never does first',
    }),
})

export const ContactsData = z
  .object({
    statuses: z.number().int().openapi({ description: 'Sent statuses looked at (at most `last`)' }),
    since: z.string().nullable().openapi({ description: 'When the oldest of them was sent' }),
    unresolvedViews: z
      .number()
      .int()
      .openapi({ description: 'Views by LID-only viewers, not tied to a number' }),
    contacts: z.array(
      z.object({
        number: z.string(),
        received: z.number().int(),
        viewed: z.number().int(),
        viewRate: z
          .number()
          .nullable()
          .openapi({ description: 'viewed ÷ received × 100; null if none received' }),
        firstViewAt: z.string().nullable(),
        lastViewAt: z.string().nullable(),
      }),
    ),
  })
  .openapi('ContactAnalytics')

export const DailyQuery = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1, 'days must be between 1 and 366')
    .max(366, 'days must be between 1 and 366')
    .default(30)
    .openapi({ param: { name: 'days', in: 'query' }, description: 'UTC days up to today' }),
})

export const DailyData = z
  .object({
    days: z.array(
      z.object({
        day: z.string().openapi({ example: '2026-12-01' }),
        statusesSent: z.number().int(),
        audience: z.number().int(),
        views: z.number().int(),
        uniqueViewers: z.number().int(),
      }),
    ),
  })
  .openapi('DailyAnalytics')

export const ScheduledParams = z.object({
  sessionId: sessionIdParam,
  scheduledId: z
    .string()
    .regex(/^sch_[a-f0-9]{12}$/, 'scheduledId is not a scheduled status id')
    .openapi({ param: { name: 'scheduledId', in: 'path' }, example: 'sch_0123456789ab' }),
})

export const ScheduledData = z
  .object({
    scheduledId: z.string(),
    sendAt: z.string().openapi({ description: 'The next send (the last one once done)' }),
    repeat: z.enum(['none', 'daily', 'weekly']),
    state: z.enum(['scheduled', 'sending', 'done', 'missed', 'failed', 'cancelled']),
    type: z.string(),
    sentCount: z.number().int(),
    lastStatusId: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .openapi('ScheduledStatus')

export const AudienceParams = z.object({
  sessionId: sessionIdParam,
  audienceId: z
    .string()
    .regex(/^aud_[a-f0-9]{12}$/, 'audienceId is not an audience id')
    .openapi({ param: { name: 'audienceId', in: 'path' }, example: 'aud_0123456789ab' }),
})

export const CreateAudienceBody = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: 'Close friends' }),
    numbers: numberList('numbers')
      .refine((raw) => parseTargetNumbers(raw).length > 0, 'numbers must name at least one number')
      .openapi({
        description: 'Comma-separated numbers with country code',
        example: '628123456789,628987654321',
      }),
  })
  .openapi('CreateAudienceRequest')

export const AudienceData = z
  .object({
    audienceId: z.string(),
    name: z.string(),
    size: z.number().int(),
    numbers: z.array(z.string()),
    createdAt: z.string(),
  })
  .openapi('Audience')

export const DeleteStatusQuery = z.object({
  forEveryone: z
    .enum(['true', 'false'], { error: 'forEveryone must be true or false' })
    .optional()
    .transform((value) => value === 'true')
    .openapi({
      param: { name: 'forEveryone', in: 'query' },
      description: "`true`: also delete it on the audience's phones (WhatsApp revoke)",
    }),
})

export const DeleteStatusData = z.object({
  statusId: z.string(),
  message: z.string(),
  deletedFromWhatsApp: z.boolean(),
  deletedFromDatabase: z.boolean(),
  deletedImageFile: z.boolean(),
  note: z.string(),
})

// ---- uploads ----------------------------------------------------------------------------------

const MediaKindSchema = namedEnum('type', ['image', 'video'])

export const UploadData = z.object({
  filename: z.string(),
  size: z.number().int(),
  mimeType: z.string(),
  kind: z.enum(['image', 'video']),
})

/** v1 returns `filename` at the top level, v2 inside `data`: both are present. */
export const UploadResponse = z
  .object({ success: z.literal(true), filename: z.string(), data: UploadData })
  .openapi('UploadResult')

export const multipartFileBody = (field: 'image' | 'video') => ({
  required: true,
  content: {
    // A plain schema object (not zod) so the form is documented but not buffered by a validator.
    'multipart/form-data': {
      schema: {
        type: 'object' as const,
        required: [field],
        properties: { [field]: { type: 'string' as const, format: 'binary' } },
      },
    },
  },
})

export const CreateUploadLinkBody = z
  .object({
    type: MediaKindSchema,
    contentType: z.string().min(1).max(100).openapi({ example: 'image/jpeg' }),
    size: z
      .number()
      .int()
      .min(1)
      .openapi({ description: 'Size in bytes: exact for S3 links, a maximum for the local store' }),
  })
  .superRefine((body, ctx) => {
    if (!extensionForDeclared(body.type, body.contentType)) {
      ctx.addIssue({
        code: 'custom',
        path: ['contentType'],
        message: `contentType must be one of: ${declarableTypes(body.type).join(', ')}`,
      })
    }
  })
  .openapi('CreateUploadLinkRequest')

export const UploadLinkData = z.object({
  filename: z.string(),
  uploadUrl: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.string(),
})

export const SignedUploadQuery = z.object({
  expires: z.coerce
    .number()
    .int()
    .openapi({ param: { name: 'expires', in: 'query' } }),
  type: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'type', in: 'query' } }),
  max: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'max', in: 'query' } }),
  sig: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'sig', in: 'query' } }),
})

// ---- system -----------------------------------------------------------------------------------

const ComponentState = z.enum(['up', 'down', 'not_used'])

export const HealthData = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']).openapi({
    description:
      '`unhealthy` (503) when the database is down; `degraded` when Redis, storage or every connector is',
  }),
  timestamp: z.string(),
  uptime: z.number().openapi({ description: 'Seconds since start' }),
  version: z.string(),
  components: z.object({
    db: ComponentState,
    redis: ComponentState,
    storage: ComponentState,
    connectors: ComponentState,
  }),
  connectors: z
    .array(
      z.object({
        id: z.string(),
        sessions: z.number().int(),
        maxSessions: z.number().int(),
        url: z.string().nullable(),
      }),
    )
    .optional()
    .openapi({ description: 'Live connectors and their session counts; only with the API key (split mode)' }),
})

export const StatsData = z.object({
  totalSessions: z.number().int(),
  connectedSessions: z.number().int(),
  totalStatuses: z.number().int(),
  totalViewers: z.number().int(),
  lastStatusSent: z.string().nullable(),
  sessions: z.array(
    z.object({
      sessionId: z.string(),
      sessionName: z.string(),
      connected: z.boolean(),
      status: SessionStateSchema,
      ownNumber: z.string().nullable(),
      statusCount: z.number().int(),
      createdAt: z.string(),
    }),
  ),
})

export const StorageData = z.object({
  databaseBytes: z.number().int().nullable(),
  sessions: z.array(
    z.object({
      sessionId: z.string(),
      authKeys: z.number().int(),
      authBytes: z.number().int(),
      statuses: z.number().int(),
      viewers: z.number().int(),
    }),
  ),
})

// ---- webhooks ---------------------------------------------------------------------------------

export const WebhookParams = z.object({
  webhookId: z
    .string()
    .regex(/^wh_[a-f0-9]{12}$/, 'webhookId is not a webhook id')
    .openapi({ param: { name: 'webhookId', in: 'path' }, example: 'wh_0123456789ab' }),
})

export const DeliveryParams = WebhookParams.extend({
  deliveryId: z
    .string()
    .regex(/^whd_[a-f0-9]{16}$/, 'deliveryId is not a delivery id')
    .openapi({ param: { name: 'deliveryId', in: 'path' }, example: 'whd_0123456789abcdef' }),
})

const webhookEvent = z.enum(['*', ...EVENT_NAMES])

export const CreateWebhookBody = z
  .object({
    url: z
      .string({ error: (issue) => (issue.input === undefined ? 'url is required' : 'url must be a string') })
      .max(2048, 'url must be at most 2048 characters')
      .openapi({ example: 'https://hooks.example.com/whatsapp' }),
    events: z
      .array(webhookEvent, { error: 'events must be a list of event names' })
      .min(1, 'events must name at least one event (or "*")')
      .max(EVENT_NAMES.length + 1)
      .default(['*'])
      .openapi({
        description: `Socket.IO event names to deliver, or \`["*"]\` (the default) for all: ${EVENT_NAMES.join(', ')}`,
        example: ['status-viewers-update', 'status-sent'],
      }),
    sessionId: SessionIdSchema.optional().meta({
      description: "Only this session's events; without it, every session's",
      example: 'personal',
    }),
    description: z
      .string()
      .trim()
      .max(200, 'description must be at most 200 characters')
      .optional()
      .openapi({ example: 'CRM sync' }),
  })
  .openapi('CreateWebhookRequest')

export const UpdateWebhookBody = z
  .object({
    url: CreateWebhookBody.shape.url.optional(),
    events: CreateWebhookBody.shape.events.unwrap().optional(),
    description: CreateWebhookBody.shape.description,
    active: z.boolean({ error: 'active must be true or false' }).optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    message: 'Give at least one of url, events, description, active',
  })
  .openapi('UpdateWebhookRequest')

export const DeliveriesQuery = PageQuery.extend({
  state: z
    .enum(['pending', 'delivering', 'delivered', 'failed'], {
      error: 'state must be one of: pending, delivering, delivered, failed',
    })
    .optional()
    .openapi({ param: { name: 'state', in: 'query' }, description: 'Only deliveries in this state' }),
})

export const WebhookListQuery = z.object({
  sessionId: SessionIdSchema.optional().meta({
    param: { name: 'sessionId', in: 'query' },
    description: "A session's own webhooks and the global ones",
  }),
})

export const WebhookData = z
  .object({
    webhookId: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    sessionId: z.string().nullable().openapi({ description: 'null: every session' }),
    description: z.string().nullable(),
    active: z.boolean().openapi({ description: 'false: paused, nothing new is queued for it' }),
    createdAt: z.string(),
  })
  .openapi('Webhook')

export const CreatedWebhookData = z
  .object({
    ...WebhookData.shape,
    secret: z.string().openapi({
      description: 'Signs every delivery (see the README). Shown only in this answer: keep it now',
      example: 'whsec_3q2-7wE…',
    }),
  })
  .openapi('CreatedWebhook')

export const DeliveryData = z
  .object({
    deliveryId: z.string(),
    webhookId: z.string(),
    event: z.string(),
    sessionId: z.string(),
    state: z.enum(['pending', 'delivering', 'delivered', 'failed']),
    attempts: z.number().int(),
    createdAt: z.string(),
    lastAttemptAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable().openapi({ description: 'When a pending delivery is tried next' }),
    responseStatus: z.number().int().nullable().openapi({ description: "The receiver's last HTTP status" }),
    error: z.string().nullable().openapi({ description: 'Why the last attempt failed' }),
    deliveredAt: z.string().nullable(),
    redeliveryOf: z.string().nullable(),
  })
  .openapi('WebhookDelivery')

// ---- scoped API keys --------------------------------------------------------------------------

export const KeyParams = z.object({
  keyId: z
    .string()
    .regex(/^key_[a-f0-9]{12}$/, 'keyId is not an API key id')
    .openapi({ param: { name: 'keyId', in: 'path' }, example: 'key_0123456789ab' }),
})

export const CreateKeyBody = z
  .object({
    name: z
      .string({
        error: (issue) => (issue.input === undefined ? 'name is required' : 'name must be a string'),
      })
      .trim()
      .min(1, 'name must not be empty')
      .max(100, 'name must be at most 100 characters')
      .openapi({ example: 'Reporting dashboard' }),
    scopes: z
      .array(z.enum(['read', 'send', 'admin']), { error: 'scopes must be a list of: read, send, admin' })
      .min(1, 'scopes must name at least one of: read, send, admin')
      .openapi({
        description:
          '`read` (lists, viewers, analytics, events), `send` (statuses, uploads, audiences; includes read), `admin` (sessions and webhooks; includes both)',
        example: ['read'],
      }),
    sessionIds: z
      .array(SessionIdSchema, { error: 'sessionIds must be a list of session ids' })
      .min(1, 'sessionIds must name at least one session (leave it out for every session)')
      .max(1000)
      .optional()
      .openapi({
        description: 'The sessions the key may use; without it, every session',
        example: ['personal'],
      }),
  })
  .openapi('CreateApiKeyRequest')

export const ApiKeyData = z
  .object({
    keyId: z.string(),
    name: z.string(),
    keyPrefix: z.string().openapi({ description: 'The first characters of the key, to recognise it' }),
    scopes: z.array(z.enum(['read', 'send', 'admin'])),
    sessionIds: z.array(z.string()).nullable().openapi({ description: 'null: every session' }),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: 'Updated at most once a minute' }),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey')

export const CreatedKeyData = z
  .object({
    ...ApiKeyData.shape,
    key: z
      .string()
      .openapi({ description: 'The key itself, shown only in this answer (stored as a digest)' }),
  })
  .openapi('CreatedApiKey')

// ---- contacts ---------------------------------------------------------------------------------

export const ContactData = z
  .object({
    number: z.string(),
    name: z.string().nullable().openapi({ description: "The address book's name, else the profile name" }),
  })
  .openapi('Contact')
