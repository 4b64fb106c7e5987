import type { Logger } from 'pino'
import type { ClaimedDelivery, DeliveryOutcome, Repositories } from '../../shared/db/types.js'
import type { ProductMetrics } from '../../shared/metrics.js'
import { isAllowedWebhookHost } from '../../shared/net/webhook-hosts.js'
import { type BackoffOptions, backoffDelay } from '../backoff.js'
import { postWebhook, type WebhookAttempt } from './post-webhook.js'
import { signatureHeader } from './signature.js'

/** A lease outlives the attempt's timeout by this much before another deliverer may retry it. */
const LEASE_MARGIN_MS = 5_000
const PRUNE_EVERY_MS = 3_600_000
const UNREADABLE_SECRET = 'The signing secret cannot be read: AUTH_ENCRYPTION_KEY is missing or another key'

export interface WebhookDelivererDeps {
  repos: Repositories
  logger: Logger
  now: () => number
  /** How often due deliveries (retries, or those queued by another process) are looked for. */
  pollMs: number
  /** Attempts in flight at once, per connector. */
  concurrency: number
  maxAttempts: number
  retry: BackoffOptions
  timeoutMs: number
  allowedHosts: readonly string[]
  /** Finished deliveries older than this are removed from the log. */
  logRetentionMs: number
  metrics?: ProductMetrics | undefined
  random?: () => number
  /** The signing secret as stored → as given out (sealed with AUTH_ENCRYPTION_KEY, or plain). */
  openSecret?: (stored: string, webhookId: string) => string
  /** The HTTP attempt; defaults to `postWebhook`. */
  post?: typeof postWebhook
}

/**
 * Sends queued webhook deliveries. A delivery is claimed in the database for one attempt at a
 * time, so several connectors share the queue without sending one twice at once; a connector that
 * dies mid-attempt leaves a lease that runs out and the delivery is tried again (at least once).
 * Failures are retried with exponential backoff and jitter (a receiver's Retry-After is honoured,
 * up to the longest delay) until WEBHOOK_MAX_ATTEMPTS, then the delivery is marked failed.
 */
export class WebhookDeliverer {
  private timer: NodeJS.Timeout | null = null
  private readonly running = new Set<Promise<void>>()
  private passing: Promise<void> | null = null
  private again = false
  private stopped = true
  private lastPrunedAt = 0

  constructor(private readonly deps: WebhookDelivererDeps) {}

  start(): void {
    if (this.timer) return
    this.stopped = false
    this.timer = setInterval(() => this.runSoon(), this.deps.pollMs)
    this.timer.unref?.()
    this.runSoon()
  }

  /** No new attempt starts; those in flight finish (each is bounded by WEBHOOK_TIMEOUT_MS). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.passing
    await Promise.allSettled([...this.running])
  }

  /** Looks for due deliveries now (again after the current pass, if one is running). */
  runSoon(): void {
    if (this.stopped) return
    if (this.passing) {
      this.again = true
      return
    }
    this.passing = this.pass()
      .catch((error) => this.deps.logger.warn({ err: error }, 'webhook delivery pass failed'))
      .finally(() => {
        this.passing = null
        if (this.again) {
          this.again = false
          this.runSoon()
        }
      })
  }

  private async pass(): Promise<void> {
    const { repos, now } = this.deps
    if (now() - this.lastPrunedAt >= PRUNE_EVERY_MS) {
      this.lastPrunedAt = now()
      await repos.webhooks.pruneDeliveries(now() - this.deps.logRetentionMs)
    }
    while (!this.stopped) {
      const free = this.deps.concurrency - this.running.size
      if (free <= 0) return
      const at = now()
      const claimed = await repos.webhooks.claimDue(at, free, at + this.deps.timeoutMs + LEASE_MARGIN_MS)
      for (const delivery of claimed) {
        const work = this.attempt(delivery).finally(() => {
          this.running.delete(work)
          // A slot is free: more may be waiting.
          this.runSoon()
        })
        this.running.add(work)
      }
      if (claimed.length < free) return
    }
  }

  /** The secret to sign with; null when it is sealed with another key than the one configured. */
  private secretOf(delivery: ClaimedDelivery): string | null {
    try {
      return this.deps.openSecret
        ? this.deps.openSecret(delivery.secret, delivery.webhookId)
        : delivery.secret
    } catch {
      return null
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { now, maxAttempts } = this.deps
    const secret = this.secretOf(delivery)
    let result: WebhookAttempt
    // A lease that ran out counts as an attempt: one past the limit is not tried again.
    if (delivery.attempts > maxAttempts) {
      result = { status: null, error: 'The deliverer stopped during the last attempt', retryAfterMs: null }
    } else if (secret === null) {
      result = { status: null, error: UNREADABLE_SECRET, retryAfterMs: null }
    } else {
      const url = new URL(delivery.url)
      const timestamp = Math.floor(now() / 1000)
      result = await (this.deps.post ?? postWebhook)(
        url,
        delivery.body,
        {
          'user-agent': 'WhatsApp-Status-Tracker-Webhooks',
          'x-webhook-id': delivery.webhookId,
          'x-webhook-delivery': delivery.id,
          'x-webhook-event': delivery.event,
          'x-webhook-attempt': String(delivery.attempts),
          'x-webhook-signature': signatureHeader(secret, timestamp, delivery.body),
        },
        {
          timeoutMs: this.deps.timeoutMs,
          allowPrivate: isAllowedWebhookHost(url, this.deps.allowedHosts),
        },
      ).catch(() => ({ status: null, error: 'Request failed', retryAfterMs: null }))
    }
    const at = now()
    let outcome: DeliveryOutcome
    if (result.error === null) {
      outcome = { state: 'delivered', responseStatus: result.status, error: null, at }
    } else if (delivery.attempts >= maxAttempts) {
      outcome = { state: 'failed', responseStatus: result.status, error: result.error, at }
    } else {
      const backoff = backoffDelay(delivery.attempts - 1, this.deps.retry, this.deps.random)
      const asked = Math.min(result.retryAfterMs ?? 0, this.deps.retry.maxMs)
      outcome = {
        state: 'pending',
        nextAttemptAt: at + Math.max(backoff, asked),
        responseStatus: result.status,
        error: result.error,
        at,
      }
    }
    this.deps.metrics?.webhookDeliveries.inc({
      outcome: outcome.state === 'pending' ? 'retried' : outcome.state,
    })
    await this.deps.repos.webhooks.finishAttempt(delivery.id, outcome).catch((error) => {
      this.deps.logger.warn({ err: error, deliveryId: delivery.id }, 'webhook delivery result not recorded')
    })
    if (outcome.state === 'failed') {
      this.deps.logger.warn(
        {
          webhookId: delivery.webhookId,
          deliveryId: delivery.id,
          attempts: delivery.attempts,
          error: result.error,
        },
        'webhook delivery failed for good',
      )
    }
  }
}
