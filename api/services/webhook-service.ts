import type { DeliveryState, WebhookDeliveryRecord, WebhookRecord } from '../../shared/db/types.js'
import { AppError, appError, Messages } from '../../shared/errors.js'
import { isAllowedWebhookHost } from '../../shared/net/webhook-hosts.js'
import { randomBase64Url, randomHex } from '../../shared/random.js'
import { sealWithWebCrypto, webhookSecretContext } from '../../shared/security/web-seal.js'
import { requireSession, type ServiceContext } from './context.js'
import { decodeCursor, encodeCursor, type PageRequest } from './pages.js'
import { assertPublicMediaUrl, parseMediaUrl } from './url-guard.js'
import { iso, isoOrNull } from './views.js'

/** Deliveries per page of the log when the client names no `limit`. */
const DEFAULT_LOG_PAGE = 50

const toWebhookView = (webhook: WebhookRecord) => ({
  webhookId: webhook.id,
  url: webhook.url,
  events: webhook.events,
  sessionId: webhook.sessionId,
  description: webhook.description,
  active: webhook.active,
  createdAt: iso(webhook.createdAt),
})

const toDeliveryView = (delivery: WebhookDeliveryRecord) => ({
  deliveryId: delivery.id,
  webhookId: delivery.webhookId,
  event: delivery.event,
  sessionId: delivery.sessionId,
  state: delivery.state,
  attempts: delivery.attempts,
  createdAt: iso(delivery.createdAt),
  lastAttemptAt: isoOrNull(delivery.lastAttemptAt),
  nextAttemptAt: delivery.state === 'pending' ? iso(delivery.nextAttemptAt) : null,
  responseStatus: delivery.responseStatus,
  error: delivery.lastError,
  deliveredAt: isoOrNull(delivery.deliveredAt),
  redeliveryOf: delivery.redeliveryOf,
})

/** `["*"]` when it names everything, else each name once. */
const normalizedEvents = (events: string[]) => (events.includes('*') ? ['*'] : [...new Set(events)])

/**
 * Webhooks: where events are POSTed, signed. The connectors deliver them (connector/webhooks/);
 * this side registers, lists, removes and re-queues.
 */
export class WebhookService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * The same rules as media URLs (http(s), no credentials, public addresses only, checked again at
   * every delivery), except for hosts the operator allowed in WEBHOOK_ALLOWED_HOSTS.
   */
  private async checkUrl(raw: string): Promise<string> {
    const parsed = parseMediaUrl(raw)
    if (!parsed.ok) {
      throw parsed.message === Messages.urlInvalid
        ? appError('webhookUrlInvalid')
        : new AppError('bad_request', parsed.message)
    }
    if (isAllowedWebhookHost(parsed.url, this.ctx.config.WEBHOOK_ALLOWED_HOSTS)) return parsed.url.href
    return (await assertPublicMediaUrl(raw, this.ctx.resolveHost)).href
  }

  async create(input: {
    url: string
    events: string[]
    sessionId?: string | undefined
    description?: string | undefined
  }) {
    if (input.sessionId !== undefined) await requireSession(this.ctx, input.sessionId)
    const url = await this.checkUrl(input.url)
    const webhook: WebhookRecord = {
      id: `wh_${randomHex(6)}`,
      sessionId: input.sessionId ?? null,
      url,
      events: normalizedEvents(input.events),
      secret: `whsec_${randomBase64Url(32)}`,
      description: input.description || null,
      active: true,
      createdAt: this.ctx.clock(),
    }
    // With AUTH_ENCRYPTION_KEY the secret is kept sealed like the WhatsApp credentials.
    const key = this.ctx.config.AUTH_ENCRYPTION_KEY
    const stored = key
      ? await sealWithWebCrypto(key, webhook.secret, webhookSecretContext(webhook.id))
      : webhook.secret
    await this.ctx.repos.webhooks.insert({ ...webhook, secret: stored })
    return { ...toWebhookView(webhook), secret: webhook.secret }
  }

  async list(sessionId?: string) {
    if (sessionId !== undefined) await requireSession(this.ctx, sessionId)
    return (await this.ctx.repos.webhooks.list(sessionId)).map(toWebhookView)
  }

  async get(webhookId: string) {
    return toWebhookView(await this.require(webhookId))
  }

  /** Changes its URL (checked as at registration), events, description, or pauses / resumes it. */
  async update(
    webhookId: string,
    patch: {
      url?: string | undefined
      events?: string[] | undefined
      description?: string | undefined
      active?: boolean | undefined
    },
  ) {
    await this.require(webhookId)
    const updated = await this.ctx.repos.webhooks.update(webhookId, {
      ...(patch.url !== undefined ? { url: await this.checkUrl(patch.url) } : {}),
      ...(patch.events !== undefined ? { events: normalizedEvents(patch.events) } : {}),
      ...(patch.description !== undefined ? { description: patch.description || null } : {}),
      ...(patch.active !== undefined ? { active: patch.active } : {}),
    })
    if (!updated) throw appError('webhookNotFound')
    return toWebhookView(updated)
  }

  async delete(webhookId: string) {
    if (!(await this.ctx.repos.webhooks.delete(webhookId))) throw appError('webhookNotFound')
    return { webhookId, message: 'Webhook deleted' }
  }

  /** The delivery log, newest first. */
  async deliveries(webhookId: string, page: Partial<PageRequest> & { state?: DeliveryState | undefined }) {
    await this.require(webhookId)
    const limit = page.limit ?? DEFAULT_LOG_PAGE
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor)
    // One more than asked tells whether there is a next page without a count query.
    const rows = await this.ctx.repos.webhooks.deliveries(webhookId, limit + 1, before, page.state)
    const items = rows.slice(0, limit)
    const last = items.at(-1)
    return {
      data: items.map(toDeliveryView),
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null,
    }
  }

  /** Queues the same body again as a new delivery (the original keeps its history). */
  async redeliver(webhookId: string, deliveryId: string) {
    await this.require(webhookId)
    const original = await this.ctx.repos.webhooks.getDelivery(webhookId, deliveryId)
    if (!original) throw appError('deliveryNotFound')
    const now = this.ctx.clock()
    const copy: WebhookDeliveryRecord = {
      ...original,
      id: `whd_${randomHex(8)}`,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      leaseUntil: null,
      lastAttemptAt: null,
      responseStatus: null,
      lastError: null,
      redeliveryOf: original.id,
      createdAt: now,
      deliveredAt: null,
    }
    await this.ctx.repos.webhooks.insertDeliveries([copy])
    return toDeliveryView(copy)
  }

  private async require(webhookId: string): Promise<WebhookRecord> {
    const webhook = await this.ctx.repos.webhooks.get(webhookId)
    if (!webhook) throw appError('webhookNotFound')
    return webhook
  }
}
