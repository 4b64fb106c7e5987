import type { Client } from '@libsql/client'
import type { Logger } from 'pino'
import type { CommandServer, EventPublisher, EventSubscriber, Unsubscribe } from '../shared/bus/types.js'
import { type Config, maxUploadBytes } from '../shared/config.js'
import type { Repositories } from '../shared/db/index.js'
import { appError } from '../shared/errors.js'
import type { ProductMetrics } from '../shared/metrics.js'
import { webhookSecretContext } from '../shared/security/web-seal.js'
import type { MediaStore } from '../shared/storage/types.js'
import { createValueCipher } from './auth/auth-cipher.js'
import { createDbAuthState } from './auth/auth-state.js'
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js'
import { SharedKeyCache } from './key-cache.js'
import { LoginPacer } from './login-pacer.js'
import { publicUrlMediaFetcher } from './media-fetch.js'
import { MediaInUse, RetentionJob } from './retention.js'
import { SessionManager } from './session-manager.js'
import { SessionRuntime } from './session-runtime.js'
import { installSignalConsoleGuard } from './signal-console-guard.js'
import type { ExtraSocketOptions } from './socket-config.js'
import type { UrlMediaFetcher } from './status-content.js'
import { StatusScheduler } from './status-scheduler.js'
import { ViewerIngest, type ViewerIngestOptions } from './viewer-ingest.js'
import { baileysSocketFactory, type SocketFactory } from './wa-socket.js'
import { WebhookDeliverer } from './webhooks/webhook-deliverer.js'
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js'

/** How often a connector looks for scheduled statuses that are due: they go out within this. */
const SCHEDULER_POLL_MS = 1_000
/** How often a connector looks for webhook retries that are due (new deliveries go out at once). */
const WEBHOOK_POLL_MS = 1_000
/** Webhook attempts in flight at once per connector. */
const WEBHOOK_CONCURRENCY = 8

export interface ConnectorDeps {
  config: Config
  db: Client
  repos: Repositories
  /** Where events go (Socket.IO, through the cluster in split mode) and who listens in this process. */
  events: EventPublisher & EventSubscriber
  /**
   * Embedded mode: commands arrive in process and every stored session runs here, restored at
   * start. Without it (split mode) the cluster membership adopts sessions and feeds commands in
   * through `sessions` (see connector/cluster/).
   */
  commands?: CommandServer
  /** This connector's id, stored on the sessions it owns (shown by `connection-status`). */
  connectorId?: string
  media: MediaStore
  logger: Logger
  /** Sends, acks and receipts are counted here (GET /metrics of the process). */
  metrics?: ProductMetrics
  /** Defaults to the real Baileys `makeWASocket`; tests pass a double. */
  socketFactory?: SocketFactory
  clock?: { now(): number }
  /** Reconnect delays (defaults: 1 s doubling to 60 s, ±20 %). */
  backoff?: Partial<BackoffOptions>
  /** Linking rounds an unlinked session gets before it stops (default `DEFAULT_LINK_ROUNDS`). */
  linkRounds?: number
  /** Viewer batching (defaults: flush at 5,000 queued or after 20 ms). */
  ingest?: Partial<ViewerIngestOptions>
  /** Downloads `url` status media; defaults to public hosts only, capped at MAX_UPLOAD_MB. */
  fetchUrlMedia?: UrlMediaFetcher
  /** Signal key cache entries shared by all sessions. */
  keyCacheEntries?: number
  random?: () => number
  /** Extra Baileys socket options, e.g. a `fetchAgent` trusting a simulator's CA for uploads. */
  socketOptions?: ExtraSocketOptions
}

/**
 * Linking rounds before a session nobody links stops: WhatsApp gives a linking socket six QR refs
 * (the first shown 60 s, the others 20 s each, about 2.7 minutes; a pairing code is valid as long)
 * and then ends it, so three rounds keep codes coming for about eight minutes.
 */
export const DEFAULT_LINK_ROUNDS = 3

/**
 * The long-running side of the product: holds one WhatsApp socket per session, answers the API's
 * commands, records status viewers and removes expired statuses.
 */
export class Connector {
  readonly sessions: SessionManager
  private readonly ingest: ViewerIngest
  private readonly retention: RetentionJob
  private readonly scheduler: StatusScheduler
  private readonly webhookDispatcher: WebhookDispatcher
  private readonly webhookDeliverer: WebhookDeliverer
  private readonly keyCache: SharedKeyCache
  private readonly logins: LoginPacer
  private readonly unsubscribers: Unsubscribe[] = []
  private started = false

  constructor(private readonly deps: ConnectorDeps) {
    const now = () => (deps.clock ?? Date).now()
    const logger = deps.logger
    this.keyCache = new SharedKeyCache(deps.keyCacheEntries)
    this.ingest = new ViewerIngest(
      { repos: deps.repos, events: deps.events, logger, metrics: deps.metrics },
      deps.ingest,
    )
    const mediaInUse = new MediaInUse()
    this.retention = new RetentionJob({
      repos: deps.repos,
      media: deps.media,
      events: deps.events,
      logger,
      intervalMs: deps.config.CLEANUP_INTERVAL_MS,
      now,
      orphanUploadAgeMs:
        (deps.config.UPLOAD_URL_TTL_SECONDS + deps.config.ORPHAN_UPLOAD_GRACE_SECONDS) * 1000,
      mediaInUse,
      // A minute past the longest a live send waits for a late ack.
      pendingGiveUpMs: deps.config.STATUS_ACK_FINAL_TIMEOUT_MS + 60_000,
      historyMs: deps.config.ANALYTICS_HISTORY_DAYS * 86_400_000,
      onDeleted: (status) => this.ingest.forgetStatus(status.sessionId, status.id),
    })
    this.scheduler = new StatusScheduler({
      repos: deps.repos,
      logger,
      now,
      graceMs: deps.config.SCHEDULE_GRACE_SECONDS * 1000,
      // Past the longest a send can take (preparing, then waiting for a late ack).
      stuckAfterMs: deps.config.STATUS_PREPARE_TIMEOUT_MS + deps.config.STATUS_ACK_FINAL_TIMEOUT_MS + 60_000,
      pollMs: SCHEDULER_POLL_MS,
      holds: (sessionId) => this.sessions.runtime(sessionId)?.isOpen ?? false,
      send: (input) => {
        const runtime = this.sessions.runtime(input.sessionId)
        if (!runtime) return Promise.reject(appError('notConnected'))
        // A big audience goes out as a job here too; the schedule records the status it started.
        return input.targetNumbers.length > deps.config.STATUS_JOB_THRESHOLD
          ? runtime.startStatusJob(input)
          : runtime.sendStatus(input)
      },
    })
    const { config } = deps
    const secrets = createValueCipher(config.AUTH_ENCRYPTION_KEY)
    this.webhookDeliverer = new WebhookDeliverer({
      repos: deps.repos,
      logger,
      now,
      pollMs: WEBHOOK_POLL_MS,
      concurrency: WEBHOOK_CONCURRENCY,
      maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
      retry: { baseMs: config.WEBHOOK_RETRY_BASE_MS, maxMs: config.WEBHOOK_RETRY_MAX_MS, jitter: 0.2 },
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      allowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
      logRetentionMs: config.WEBHOOK_LOG_DAYS * 86_400_000,
      metrics: deps.metrics,
      openSecret: (stored, webhookId) => secrets.open(stored, webhookSecretContext(webhookId)),
      ...(deps.random ? { random: deps.random } : {}),
    })
    this.webhookDispatcher = new WebhookDispatcher({
      repos: deps.repos,
      events: deps.events,
      logger,
      now,
      queued: () => this.webhookDeliverer.runSoon(),
    })
    const backoff = { ...DEFAULT_BACKOFF, ...deps.backoff }
    this.logins = new LoginPacer(deps.config.SESSION_LOGINS_PER_SECOND)
    const linkRounds = deps.linkRounds ?? DEFAULT_LINK_ROUNDS
    const socketFactory = deps.socketFactory ?? baileysSocketFactory
    const fetchUrl = deps.fetchUrlMedia ?? publicUrlMediaFetcher(maxUploadBytes(deps.config))
    this.sessions = new SessionManager({
      repos: deps.repos,
      logger,
      now,
      connectorId: deps.connectorId ?? null,
      createRuntime: (sessionId) =>
        new SessionRuntime({
          sessionId,
          config: deps.config,
          repos: deps.repos,
          events: deps.events,
          media: deps.media,
          logger,
          socketFactory,
          loadAuth: () =>
            createDbAuthState(deps.db, sessionId, { encryptionKey: deps.config.AUTH_ENCRYPTION_KEY }),
          keyCache: this.keyCache.forSession(sessionId),
          ingest: this.ingest,
          mediaInUse,
          ...(deps.metrics ? { metrics: deps.metrics } : {}),
          fetchUrl,
          now,
          backoff,
          logins: this.logins,
          linkRounds,
          ...(deps.random ? { random: deps.random } : {}),
          ...(deps.socketOptions ? { socketOptions: deps.socketOptions } : {}),
        }),
    })
  }

  /**
   * Starts the retention job and, in embedded mode, takes commands and restores every stored
   * session (no re-linking). In split mode sessions arrive one by one through `sessions.adopt`.
   * Restored sessions log in at SESSION_LOGINS_PER_SECOND after this returns.
   */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    // libsignal dumps session keys to the console; never let that reach the logs.
    this.unsubscribers.push(installSignalConsoleGuard())
    // Listening before anything runs, so no event of this start is missed by webhooks.
    this.webhookDispatcher.start()
    if (this.deps.commands) this.unsubscribers.push(this.deps.commands.serve(this.sessions.handle))
    // Deletions made by the API must reach the caches that map receipts to statuses.
    this.unsubscribers.push(
      this.deps.events.subscribe((message) => {
        if (message.event === 'status-deleted') {
          this.ingest.forgetStatus(message.payload.sessionId, message.payload.statusId)
        } else if (message.event === 'session-deleted') {
          this.ingest.forgetSession(message.payload.sessionId)
          this.keyCache.dropSession(message.payload.sessionId)
        }
      }),
    )
    if (this.deps.commands) {
      const restored = await this.sessions.restore()
      this.deps.logger.info(
        { sessions: restored, perSecond: this.deps.config.SESSION_LOGINS_PER_SECOND },
        'restoring sessions',
      )
    }
    this.retention.start()
    this.scheduler.start()
    this.webhookDeliverer.start()
  }

  /**
   * Ordered shutdown: stop taking commands, close every socket without logging out (the sessions
   * are restored on the next start), write the viewers still queued, then clear the timers.
   */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    const [removeConsoleGuard, ...unsubscribers] = this.unsubscribers.splice(0)
    for (const unsubscribe of unsubscribers) unsubscribe()
    // No new scheduled send starts; those running settle as their sockets close below.
    const scheduled = this.scheduler.stop()
    await this.sessions.stopAll()
    await scheduled
    this.logins.close()
    await this.ingest.stop()
    // The last events (closing sockets, flushed viewers) are queued; attempts in flight finish.
    await this.webhookDispatcher.stop()
    await this.webhookDeliverer.stop()
    await this.retention.stop()
    // Sockets are closed now: libsignal has nothing left to print.
    removeConsoleGuard?.()
  }
}
