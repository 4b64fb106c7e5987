import type { OpenAPIHono } from '@hono/zod-openapi'
import type { CommandClient, EventPublisher } from '../shared/bus/types.js'
import type { Config } from '../shared/config.js'
import type { Repositories } from '../shared/db/types.js'
import type { HealthProbe } from '../shared/health.js'
import type { ProductMetrics } from '../shared/metrics.js'
import type { ApiKeyMatcher } from '../shared/security/api-key.js'
import type { RateLimiter } from '../shared/security/rate-limit.js'
import type { ScopedKey, ScopedKeyResolver } from '../shared/security/scoped-keys.js'
import type { MediaStore } from '../shared/storage/types.js'
import type { DashboardAssets } from './dashboard.js'
import type { FastReads } from './fast-reads.js'
import type { PeerAddressReader } from './middleware/client-address.js'
import type { ResponseFrame } from './middleware/response-frame.js'
import type { AnalyticsService } from './services/analytics-service.js'
import type { ApiKeyService } from './services/api-key-service.js'
import type { AudienceService } from './services/audience-service.js'
import type { SessionService } from './services/session-service.js'
import type { StatusService } from './services/status-service.js'
import type { SystemService } from './services/system-service.js'
import type { UploadService } from './services/upload-service.js'
import type { WebhookService } from './services/webhook-service.js'

/** The few logger methods the API uses; a pino logger fits. Never pass content, media or keys. */
export interface AppLogger {
  info(data: Record<string, unknown>, message?: string): void
  warn(data: Record<string, unknown>, message?: string): void
  error(data: Record<string, unknown>, message?: string): void
}

/** Resolves a hostname to its IP addresses (node:dns on Node); used by the URL-status SSRF check. */
export type HostResolver = (hostname: string) => Promise<string[]>

/** Everything the API needs from outside; the Node entry, a Workers entry and tests each build one. */
export interface AppDeps {
  config: Config
  repos: Repositories
  /** Commands for the connector that owns a session (in-process or over Redis). */
  commands: CommandClient
  /** Events born in the API (session-created, status-deleted, …), on their way to Socket.IO clients. */
  events: EventPublisher
  media: MediaStore
  /** What `GET /api/health` reports on; without one, health says only that the API answers. */
  health?: HealthProbe
  /** The client's address as the runtime knows it (Node: the socket); default: the edge's header. */
  peerAddress?: PeerAddressReader
  apiKey: string
  /**
   * Compares request keys with `apiKey` in constant time. Default: WebCrypto (any runtime); Node
   * entries pass `nodeApiKeyMatcher`, which answers synchronously.
   */
  apiKeyMatcher?: ApiKeyMatcher
  version: string
  /** Epoch ms the process started, for `uptime`. */
  startedAt: number
  clock?: () => number
  logger?: AppLogger
  /**
   * DNS lookup for `type: "url"` statuses. Without one only the literal host is checked, which
   * misses names that resolve to private addresses: the Node entry passes `nodeHostResolver`.
   */
  resolveHost?: HostResolver
  /**
   * Secret of upload links signed by the API itself (LocalMediaStore); it must be the one the
   * store signs with. Defaults to `uploadLinkSecretFromApiKey(apiKey)`.
   */
  uploadLinkSecret?: string
  /**
   * Counts requests per client; defaults to an in-memory limiter from the config. Pass one to share
   * its buckets with other entry points (the Socket.IO handshake) or between instances.
   */
  rateLimiter?: RateLimiter
  /**
   * Answer the hot reads from memory before Hono (`fast-reads.ts`); default true. Off only to
   * compare both paths.
   */
  fastReads?: boolean
  /** This process's metrics, served at GET /metrics; without them there is no such route. */
  metrics?: ProductMetrics
  /** The dashboard's built files, served at `/` (Node entries); Workers serve them as static assets. */
  dashboard?: DashboardAssets
  /** Scoped key lookups; default: a resolver over `repos.apiKeys`. */
  scopedKeys?: ScopedKeyResolver
}

/** Domain services, built once per app and handed to handlers through the context. */
export interface Services {
  analytics: AnalyticsService
  apiKeys: ApiKeyService
  audiences: AudienceService
  sessions: SessionService
  statuses: StatusService
  uploads: UploadService
  system: SystemService
  webhooks: WebhookService
}

export interface AppEnv {
  Variables: {
    services: Services
    requestId: string
    /** The request carries the right API key (set by the request pipeline, once per request). */
    authenticated: boolean
    /** The scoped key the request carries; null with the admin key (or none). */
    scopedKey: ScopedKey | null
    /** The answer's headers and how JSON answers are built (`middleware/response-frame.ts`). */
    frame: ResponseFrame
  }
}

export type App = OpenAPIHono<AppEnv> & {
  /** The hot reads answered before Hono (absent when `fastReads: false`), for a runtime adapter. */
  readonly fastReads?: FastReads
  /** Looks up scoped API keys; the process's Socket.IO gateway checks its handshakes with it. */
  readonly scopedKeys: ScopedKeyResolver
}
