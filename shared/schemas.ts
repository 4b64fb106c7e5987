import { z } from 'zod'

/** Field rules of the API contract, shared by request validation and the command catalog. */
export const SessionIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'sessionId may contain only letters, numbers, _ and - (max 64)')

export const PhoneNumberSchema = z
  .string()
  .trim()
  .regex(/^\d{10,15}$/, 'phoneNumber must be 10-15 digits including the country code')

export const AuthMethodSchema = z.enum(['pairing', 'qrcode'])
export type AuthMethod = z.infer<typeof AuthMethodSchema>

export const StatusTypeSchema = z.enum(['text', 'image', 'video', 'url'])
export type StatusType = z.infer<typeof StatusTypeSchema>

/** Fonts the protocol accepts for text statuses; any other value is dropped by protobuf. */
export const StatusFontSchema = z.union(
  [0, 1, 2, 6, 7, 8, 9, 10].map((n) => z.literal(n)) as [z.ZodLiteral<0>, ...z.ZodLiteral<number>[]],
)
export const BackgroundColorSchema = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/, 'backgroundColor must be a hex colour like #315575')

/** Lifecycle of a session's WhatsApp link, as stored and reported. */
export const SessionStateSchema = z.enum([
  'created', // stored, not started yet
  'connecting',
  'qr', // waiting for the QR to be scanned
  'pairing', // waiting for the pairing code to be entered
  'open',
  'reconnecting',
  'closed', // stopped on purpose
  'logged_out', // the phone unlinked the device; creds were wiped
  'replaced', // another client took over (440); not retried automatically
])
export type SessionState = z.infer<typeof SessionStateSchema>

export const StatusStateSchema = z.enum(['pending', 'sent', 'failed'])
export type StatusState = z.infer<typeof StatusStateSchema>

/** What clients see of a viewer (REST and `status-viewers-update`). */
export const ViewerSchema = z.object({
  jid: z.string(),
  number: z.string().nullable(),
  lid: z.string().nullable(),
  viewedAt: z.string(),
  isReal: z.boolean(),
})
export type Viewer = z.infer<typeof ViewerSchema>

/** A status as listed by `sent-statuses` and announced by `status-sent`. */
export const StatusViewSchema = z.object({
  id: z.string(),
  type: StatusTypeSchema,
  content: z.string(),
  caption: z.string(),
  timestamp: z.string(),
  waMessageId: z.string().nullable(),
  contactCount: z.number().int(),
  targetNumbers: z.string(),
  state: StatusStateSchema,
  error: z.string().nullable(),
  expiresAt: z.string(),
  viewerCount: z.number().int(),
  backgroundColor: z.string().nullable(),
  font: z.number().int().nullable(),
})
export type StatusView = z.infer<typeof StatusViewSchema>

export const SessionViewSchema = z.object({
  sessionId: z.string(),
  sessionName: z.string(),
  authMethod: AuthMethodSchema,
  phoneNumber: z.string().nullable(),
  connected: z.boolean(),
  status: SessionStateSchema,
  ownNumber: z.string().nullable(),
  pairingCode: z.string().nullable(),
  qrCode: z.string().nullable(),
  lastError: z.string().nullable(),
  /** The connector holding the session in split mode (its CONNECTOR_ID); null in embedded mode. */
  connectorId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type SessionView = z.infer<typeof SessionViewSchema>

/**
 * Most audience numbers one status send takes (after duplicates are removed). Up to
 * STATUS_JOB_THRESHOLD go in one stanza; a larger audience is sent as a job, in chunks.
 */
export const MAX_TARGET_NUMBERS = 50_000

/** Parses the comma-separated `targetNumbers` field into unique digit strings. */
export const parseTargetNumbers = (raw: string | undefined | null): string[] => {
  if (!raw) return []
  const out = new Set<string>()
  for (const part of raw.split(',')) {
    const digits = part.trim().replace(/^\+/, '')
    if (digits) out.add(digits)
  }
  return [...out]
}

/** `targetNumbers: "all"`: every contact the session has synced. */
export const isAllContacts = (raw: string | undefined) => raw?.trim().toLowerCase() === 'all'
