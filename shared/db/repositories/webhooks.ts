import type { Client, InValue, Row } from '@libsql/client'
import type {
  ClaimedDelivery,
  DeliveryState,
  WebhookDeliveryRecord,
  WebhookRecord,
  WebhooksRepo,
} from '../types.js'
import { integer, integerOrNull, jsonList, setClause, text, textOrNull } from './rows.js'

const toWebhook = (row: Row): WebhookRecord => ({
  id: text(row, 'id'),
  sessionId: textOrNull(row, 'session_id'),
  url: text(row, 'url'),
  events: JSON.parse(text(row, 'events')) as string[],
  secret: text(row, 'secret'),
  description: textOrNull(row, 'description'),
  active: integer(row, 'active') === 1,
  createdAt: integer(row, 'created_at'),
})

const toDelivery = (row: Row): WebhookDeliveryRecord => ({
  id: text(row, 'id'),
  webhookId: text(row, 'webhook_id'),
  sessionId: text(row, 'session_id'),
  event: text(row, 'event'),
  body: text(row, 'body'),
  state: text(row, 'state') as DeliveryState,
  attempts: integer(row, 'attempts'),
  nextAttemptAt: integer(row, 'next_attempt_at'),
  leaseUntil: integerOrNull(row, 'lease_until'),
  lastAttemptAt: integerOrNull(row, 'last_attempt_at'),
  responseStatus: integerOrNull(row, 'response_status'),
  lastError: textOrNull(row, 'last_error'),
  redeliveryOf: textOrNull(row, 'redelivery_of'),
  createdAt: integer(row, 'created_at'),
  deliveredAt: integerOrNull(row, 'delivered_at'),
})

const PATCH_COLUMNS = { url: 'url', events: 'events', description: 'description', active: 'active' } as const

/** Due: pending and its time has come, or mid-attempt by a deliverer whose lease ran out. */
const DUE = "((state = 'pending' AND next_attempt_at <= ?) OR (state = 'delivering' AND lease_until < ?))"

export function createWebhooksRepo(client: Client): WebhooksRepo {
  const get = async (id: string) => {
    const result = await client.execute({ sql: 'SELECT * FROM webhooks WHERE id = ?', args: [id] })
    const row = result.rows[0]
    return row ? toWebhook(row) : null
  }

  return {
    async insert(webhook) {
      await client.execute({
        sql: `INSERT INTO webhooks (id, session_id, url, events, secret, description, active, created_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        args: [
          webhook.id,
          webhook.sessionId,
          webhook.url,
          JSON.stringify(webhook.events),
          webhook.secret,
          webhook.description,
          webhook.active ? 1 : 0,
          webhook.createdAt,
        ],
      })
    },

    get,

    async list(sessionId) {
      const result = await client.execute(
        sessionId === undefined
          ? 'SELECT * FROM webhooks ORDER BY created_at DESC, id DESC'
          : {
              sql: `SELECT * FROM webhooks WHERE session_id = ? OR session_id IS NULL
                    ORDER BY created_at DESC, id DESC`,
              args: [sessionId],
            },
      )
      return result.rows.map(toWebhook)
    },

    async all() {
      // Read for every batch of events (a small table): a webhook works from the moment it is
      // registered, whichever process registered it.
      const result = await client.execute('SELECT * FROM webhooks')
      return result.rows.map(toWebhook)
    },

    async update(id, patch) {
      const { assignments, args } = setClause(
        {
          url: patch.url,
          events: patch.events === undefined ? undefined : JSON.stringify(patch.events),
          description: patch.description,
          active: patch.active === undefined ? undefined : patch.active ? 1 : 0,
        },
        PATCH_COLUMNS,
      )
      if (assignments.length) {
        await client.execute({
          sql: `UPDATE webhooks SET ${assignments.join(', ')} WHERE id = ?`,
          args: [...args, id],
        })
      }
      return get(id)
    },

    async delete(id) {
      const results = await client.batch(
        [
          { sql: 'DELETE FROM webhook_deliveries WHERE webhook_id = ?', args: [id] },
          { sql: 'DELETE FROM webhooks WHERE id = ?', args: [id] },
        ],
        'write',
      )
      return (results[1]?.rowsAffected ?? 0) > 0
    },

    async deleteAllForSession(sessionId) {
      await client.batch(
        [
          {
            sql: `DELETE FROM webhook_deliveries
                  WHERE webhook_id IN (SELECT id FROM webhooks WHERE session_id = ?) OR session_id = ?`,
            args: [sessionId, sessionId],
          },
          { sql: 'DELETE FROM webhooks WHERE session_id = ?', args: [sessionId] },
        ],
        'write',
      )
    },

    async insertDeliveries(deliveries) {
      if (deliveries.length === 0) return
      await client.execute({
        sql: `INSERT INTO webhook_deliveries
                (id, webhook_id, session_id, event, body, state, attempts, next_attempt_at, redelivery_of, created_at)
              SELECT value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', value ->> '$[4]',
                     'pending', 0, value ->> '$[5]', value ->> '$[6]', value ->> '$[7]'
              FROM json_each(?)`,
        args: [
          jsonList(
            deliveries.map((d) => [
              d.id,
              d.webhookId,
              d.sessionId,
              d.event,
              d.body,
              d.nextAttemptAt,
              d.redeliveryOf,
              d.createdAt,
            ]),
          ),
        ],
      })
    },

    async getDelivery(webhookId, id) {
      const result = await client.execute({
        sql: 'SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id = ?',
        args: [webhookId, id],
      })
      const row = result.rows[0]
      return row ? toDelivery(row) : null
    },

    async deliveries(webhookId, limit, before, state) {
      const where = ['webhook_id = ?']
      const args: InValue[] = [webhookId]
      if (before) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))')
        args.push(before[0], before[0], before[1])
      }
      if (state) {
        where.push('state = ?')
        args.push(state)
      }
      const result = await client.execute({
        sql: `SELECT * FROM webhook_deliveries WHERE ${where.join(' AND ')}
              ORDER BY created_at DESC, id DESC LIMIT ?`,
        args: [...args, limit],
      })
      return result.rows.map(toDelivery)
    },

    async claimDue(now, limit, leaseUntil) {
      const claimed = await client.execute({
        sql: `UPDATE webhook_deliveries
              SET state = 'delivering', attempts = attempts + 1, lease_until = ?, last_attempt_at = ?
              WHERE id IN (SELECT id FROM webhook_deliveries WHERE ${DUE} ORDER BY next_attempt_at LIMIT ?)
                AND ${DUE}
              RETURNING *`,
        args: [leaseUntil, now, now, now, limit, now, now],
      })
      const deliveries = claimed.rows.map(toDelivery)
      if (deliveries.length === 0) return []
      const targets = await client.execute({
        sql: 'SELECT id, url, secret FROM webhooks WHERE id IN (SELECT value FROM json_each(?))',
        args: [jsonList([...new Set(deliveries.map((d) => d.webhookId))])],
      })
      const byId = new Map(targets.rows.map((row) => [text(row, 'id'), row]))
      const out: ClaimedDelivery[] = []
      for (const delivery of deliveries) {
        const target = byId.get(delivery.webhookId)
        // Its webhook was deleted in between; the delete removes the row too.
        if (target) out.push({ ...delivery, url: text(target, 'url'), secret: text(target, 'secret') })
      }
      return out
    },

    async finishAttempt(id, outcome) {
      const result = await client.execute({
        sql: `UPDATE webhook_deliveries
              SET state = ?, lease_until = NULL, response_status = ?, last_error = ?,
                  next_attempt_at = COALESCE(?, next_attempt_at),
                  delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
              WHERE id = ? AND state = 'delivering'`,
        args: [
          outcome.state,
          outcome.responseStatus,
          outcome.error,
          outcome.nextAttemptAt ?? null,
          outcome.state,
          outcome.at,
          id,
        ],
      })
      return result.rowsAffected === 1
    },

    async pruneDeliveries(before) {
      const result = await client.execute({
        sql: "DELETE FROM webhook_deliveries WHERE state IN ('delivered', 'failed') AND created_at < ?",
        args: [before],
      })
      return result.rowsAffected
    },
  }
}
