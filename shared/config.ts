import { z } from 'zod'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def)
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined))
const commaList = optionalString.transform((v) =>
  v
    ? v
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : [],
)
const flag = (def: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def)
    .transform((v) => v === 'true' || v === '1')

/** Hex or base64 to bytes without Buffer, so the config also loads in a Workers isolate. */
const decodeKey = (value: string): Uint8Array | null => {
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    return Uint8Array.from(value.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16))
  }
  try {
    return Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0))
  } catch {
    return null
  }
}

export const ROLES = ['embedded', 'api', 'connector'] as const
export type Role = (typeof ROLES)[number]

/**
 * Every setting the product reads, from environment variables. Parsed once at start; a bad value
 * stops the process with a message naming the variable. Handlers never read the environment.
 */
export const ConfigSchema = z.object({
  /**
   * Which part of the product this process runs: everything in one process (`embedded`), the
   * stateless HTTP API alone (`api`), or one connector holding WhatsApp sockets (`connector`).
   */
  ROLE: z.enum(ROLES, { error: `must be one of: ${ROLES.join(', ')}` }).default('embedded'),
  PORT: int(3000).pipe(z.number().max(65535)),
  HOST: z.string().default('0.0.0.0'),
  API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  DATA_DIR: z.string().min(1).default('./data'),
  LIBSQL_URL: optionalString,
  LIBSQL_AUTH_TOKEN: optionalString,
  MAX_UPLOAD_MB: z.coerce.number().positive().max(2048).default(50),
  RATE_LIMIT_MAX: int(300, 1),
  /** Requests without a valid API key (and failed Socket.IO handshakes) per IP per window. */
  RATE_LIMIT_ANON_MAX: int(60, 1),
  RATE_LIMIT_WINDOW_MS: int(15 * 60 * 1000, 1000),
  STATUS_RETENTION_HOURS: z.coerce.number().positive().default(24),
  /**
   * Days an expired status's audience and views are kept for analytics (who views, daily totals)
   * after the status itself is removed; 0 keeps none.
   */
  ANALYTICS_HISTORY_DAYS: int(365, 0),
  /** How late a scheduled status may still go out (after downtime); later ones are marked missed. */
  SCHEDULE_GRACE_SECONDS: int(900, 1),
  CLEANUP_INTERVAL_MS: int(5 * 60 * 1000, 1000),
  /**
   * How long a send waits for the server's ack once the stanza is written. Past it the send answers
   * 504 but the status stays pending: a late ack still marks it sent.
   */
  STATUS_ACK_TIMEOUT_MS: int(30_000, 100),
  /**
   * How long Baileys may take to write the stanza (device lists, key bundles, encryption, media
   * upload) before the send answers 504. Together with the ack timeout it must fit in the
   * `status.send` command timeout (shared/commands.ts).
   */
  STATUS_PREPARE_TIMEOUT_MS: int(60_000, 100),
  /**
   * After this long from the start of a send, a status still waiting for its ack is failed. Never
   * shorter than the preparation and ack timeouts together.
   */
  STATUS_ACK_FINAL_TIMEOUT_MS: int(300_000, 100),
  // ── big audiences ─────────────────────────────────────────────────────────────────────────
  /**
   * Audiences larger than this are sent as a job: the API answers 202 with a job id at once and the
   * connector sends in chunks (GET /api/jobs/{id}, event `status-send-progress`). At most this many
   * go in one stanza, answered when WhatsApp acknowledged it.
   */
  STATUS_JOB_THRESHOLD: int(1_000, 1),
  /** Recipients per stanza of a job; every chunk carries the same message id, as WhatsApp Web does. */
  STATUS_CHUNK_SIZE: int(500, 1),
  /** Pause between the chunks of a job, so a big audience does not reach WhatsApp as one burst. */
  STATUS_CHUNK_PAUSE_MS: int(250, 0),
  /** Tries per chunk (same message id each time) before the chunk is reported failed. */
  STATUS_CHUNK_ATTEMPTS: int(3, 1),
  /** Wait before a chunk's first retry; doubled (with jitter) for each further one. */
  STATUS_CHUNK_RETRY_MS: int(2_000, 0),
  /** Wait after WhatsApp answered a chunk with 429 (rate limited); doubled for each further 429. */
  STATUS_RATE_LIMIT_BACKOFF_MS: int(30_000, 0),
  /** Lifetime of a signed upload link. */
  UPLOAD_URL_TTL_SECONDS: int(900, 10),
  /** An upload no status uses is removed this long after its link expired (file never PUT included). */
  ORPHAN_UPLOAD_GRACE_SECONDS: int(3_600, 0),
  /** Base URL clients reach this server at, used in signed upload links (default http://localhost:PORT). */
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  /** Trust X-Forwarded-For for the client IP (only behind a proxy you control). */
  TRUST_PROXY: flag('false'),
  /** A bearer token that may read GET /metrics besides the API key (for a Prometheus scraper). */
  METRICS_TOKEN: optionalString,
  /** Serve the dashboard at `/` (embedded product and Node API); off leaves only the API. */
  DASHBOARD: flag('true'),
  // ── webhooks ──────────────────────────────────────────────────────────────────────────────
  /**
   * Hosts (`host` or `host:port`, comma-separated) webhooks may reach although they are private or
   * local, e.g. an automation server on the same network. Every other private address is refused.
   */
  WEBHOOK_ALLOWED_HOSTS: commaList.transform((hosts) => hosts.map((host) => host.toLowerCase())),
  /** Attempts per delivery before it is marked failed (the first one included). */
  WEBHOOK_MAX_ATTEMPTS: int(10, 1),
  /** Delay before the first retry; it doubles per attempt (±20 % jitter) up to WEBHOOK_RETRY_MAX_MS. */
  WEBHOOK_RETRY_BASE_MS: int(10_000, 10),
  WEBHOOK_RETRY_MAX_MS: int(3_600_000, 10),
  /** How long a receiver may take to answer one delivery. */
  WEBHOOK_TIMEOUT_MS: int(10_000, 100),
  /** Days the delivery log keeps finished deliveries. */
  WEBHOOK_LOG_DAYS: int(7, 1),
  /** Slow-client limits of the Node HTTP server (see shared/node/http-guards.ts). */
  HTTP_HEADERS_TIMEOUT_MS: int(10_000, 100),
  /** Longest time to receive a whole request, body included; 0 = no limit (the stall rule still holds). */
  HTTP_REQUEST_TIMEOUT_MS: int(60 * 60 * 1000, 0),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(5_000, 100),
  /** A request body must bring HTTP_BODY_MIN_BYTES within every window of this length. */
  HTTP_BODY_STALL_MS: int(15_000, 100),
  HTTP_BODY_MIN_BYTES: int(1024, 1),
  /** Open connections (Socket.IO included) per client address; 0 = no cap. */
  HTTP_MAX_CONNECTIONS_PER_IP: int(64, 0),
  /** WhatsApp Web socket URL; unset means the real service. Tests and the demo point it at the simulator. */
  WA_WS_URL: optionalString.pipe(z.url().optional()),
  /** WhatsApp Web version as `a.b.c` or `a,b,c`; the real service rejects stale versions with 405. */
  WA_VERSION: optionalString.pipe(
    z
      .string()
      .regex(/^\d+[.,]\d+[.,]\d+$/, 'must look like 2.3000.1043857760')
      .transform((v) => v.split(/[.,]/).map(Number) as [number, number, number])
      .optional(),
  ),
  /** Extra media upload hosts (host[:port], comma-separated) tried before the ones the server names. */
  WA_UPLOAD_HOSTS: commaList,
  /**
   * Most WhatsApp logins per second a connector starts by itself: restoring sessions at start,
   * adopting them in split mode, reconnecting after a drop. Logins a user asks for do not wait.
   */
  SESSION_LOGINS_PER_SECOND: int(20, 1),
  /** 32-byte key (hex or base64) that encrypts WhatsApp auth keys at rest with AES-256-GCM. */
  AUTH_ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .transform((v, ctx) => {
        const bytes = decodeKey(v)
        if (bytes?.length !== 32) {
          ctx.addIssue({ code: 'custom', message: 'must be 32 bytes as hex or base64' })
          return z.NEVER
        }
        return bytes
      })
      .optional(),
  ),
  // ── split deployment ──────────────────────────────────────────────────────────────────────
  /** Redis over TCP: the command bus and the Socket.IO cluster. Connectors need it; the Node API may use it. */
  REDIS_URL: optionalString.pipe(
    z
      .url()
      .refine((url) => /^rediss?:\/\//.test(url), 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  /** Redis over the Upstash REST API (the API on Workers, or on Node without a TCP route to Redis). */
  UPSTASH_REDIS_REST_URL: optionalString.pipe(z.url().optional()),
  UPSTASH_REDIS_REST_TOKEN: optionalString,
  /** S3-compatible media storage; unset means the local media folder (embedded mode only). */
  S3_ENDPOINT: optionalString.pipe(z.url().optional()),
  /** The endpoint put in presigned upload links, when clients reach the store by another address. */
  S3_PUBLIC_ENDPOINT: optionalString.pipe(z.url().optional()),
  S3_REGION: optionalString.transform((v) => v ?? 'us-east-1'),
  S3_BUCKET: optionalString.pipe(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be a valid bucket name (3-63 lowercase letters, digits, . or -)',
      )
      .optional(),
  ),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  /** Path-style requests (`endpoint/bucket/key`), which MinIO and most self-hosted stores need. */
  S3_FORCE_PATH_STYLE: flag('false'),
  /** This connector's name in the cluster (default: host name and process id). */
  CONNECTOR_ID: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'may contain only letters, digits, _ . : and - (max 64)')
      .optional(),
  ),
  /** Most sessions one connector holds; placement sends the rest to other connectors. */
  CONNECTOR_MAX_SESSIONS: int(1_000, 1),
  /**
   * How long a connector's hold on a session lasts without renewal: a dead connector's sessions
   * move to another one after at most this long.
   */
  SESSION_LEASE_MS: int(15_000, 1_000),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
})

export type Config = z.infer<typeof ConfigSchema>

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`Invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`)
    this.name = 'ConfigError'
  }
}

/** Rules that span variables: what each role needs, and settings that only make sense together. */
const crossChecks = (config: Config): { variable: string; message: string }[] => {
  const issues: { variable: string; message: string }[] = []
  const require = (variable: keyof Config, why: string) => {
    if (config[variable] === undefined) issues.push({ variable, message: `is required ${why}` })
  }
  const split = config.ROLE !== 'embedded'
  if (split) {
    const why = `when ROLE is ${config.ROLE}`
    require('API_KEY', `${why} (the same key on every process)`)
    require('LIBSQL_URL', `${why} (every process shares one database)`)
    require('S3_BUCKET', `${why} (every process shares one media store)`)
    if (config.ROLE === 'connector') require('REDIS_URL', why)
    if (config.ROLE === 'api' && !config.REDIS_URL && !config.UPSTASH_REDIS_REST_URL) {
      issues.push({ variable: 'REDIS_URL', message: `or UPSTASH_REDIS_REST_URL is required ${why}` })
    }
  }
  if (config.UPSTASH_REDIS_REST_URL && !config.UPSTASH_REDIS_REST_TOKEN) {
    require('UPSTASH_REDIS_REST_TOKEN', 'when UPSTASH_REDIS_REST_URL is set')
  }
  if (config.UPSTASH_REDIS_REST_TOKEN && !config.UPSTASH_REDIS_REST_URL) {
    require('UPSTASH_REDIS_REST_URL', 'when UPSTASH_REDIS_REST_TOKEN is set')
  }
  const usesS3 = [
    config.S3_BUCKET,
    config.S3_ACCESS_KEY_ID,
    config.S3_SECRET_ACCESS_KEY,
    config.S3_ENDPOINT,
  ].some((v) => v !== undefined)
  if (usesS3) {
    if (!split) require('S3_BUCKET', 'when any S3_* variable is set')
    require('S3_ACCESS_KEY_ID', 'when S3 storage is used')
    require('S3_SECRET_ACCESS_KEY', 'when S3 storage is used')
  }
  return issues
}

export const loadConfig = (env: Record<string, string | undefined>): Config => {
  const result = ConfigSchema.safeParse(env)
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '?'),
        message: issue.message,
      })),
    )
  }
  const issues = crossChecks(result.data)
  if (issues.length) throw new ConfigError(issues)
  return result.data
}

/** Whether media lives in S3-compatible storage (else the local media folder). */
export const usesS3 = (config: Config): boolean => config.S3_BUCKET !== undefined

export const maxUploadBytes = (config: Pick<Config, 'MAX_UPLOAD_MB'>) =>
  Math.floor(config.MAX_UPLOAD_MB * 1024 * 1024)
