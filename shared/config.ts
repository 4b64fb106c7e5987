import { z } from 'zod'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def)
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined))

/**
 * Every setting the product reads, from environment variables. Parsed once at start; a bad value
 * stops the process with a message naming the variable. Handlers never read the environment.
 */
export const ConfigSchema = z.object({
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
  /** Lifetime of a signed upload link. */
  UPLOAD_URL_TTL_SECONDS: int(900, 10),
  /** An upload no status uses is removed this long after its link expired (file never PUT included). */
  ORPHAN_UPLOAD_GRACE_SECONDS: int(3_600, 0),
  /** Base URL clients reach this server at, used in signed upload links (default http://localhost:PORT). */
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  /** Trust X-Forwarded-For for the client IP (only behind a proxy you control). */
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** Slow-client limits of the Node HTTP server (see api/node/http-guards.ts). */
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
  WA_UPLOAD_HOSTS: optionalString.transform((v) =>
    v
      ? v
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean)
      : [],
  ),
  /** 32-byte key (hex or base64) that encrypts WhatsApp auth keys at rest with AES-256-GCM. */
  AUTH_ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .transform((v, ctx) => {
        const buf = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64')
        if (buf.length !== 32) {
          ctx.addIssue({ code: 'custom', message: 'must be 32 bytes as hex or base64' })
          return z.NEVER
        }
        return buf
      })
      .optional(),
  ),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
})

export type Config = z.infer<typeof ConfigSchema>

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`Invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`)
    this.name = 'ConfigError'
  }
}

export const loadConfig = (env: Record<string, string | undefined>): Config => {
  const result = ConfigSchema.safeParse(env)
  if (result.success) return result.data
  throw new ConfigError(
    result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message })),
  )
}

export const maxUploadBytes = (config: Pick<Config, 'MAX_UPLOAD_MB'>) =>
  Math.floor(config.MAX_UPLOAD_MB * 1024 * 1024)
