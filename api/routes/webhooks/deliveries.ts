import { createRoute } from '@hono/zod-openapi'
import { errorResponses, jsonContent } from '../../openapi.js'
import { DeliveriesQuery, DeliveryData, pageEnvelope, WebhookParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/webhooks/{webhookId}/deliveries',
  tags: ['Webhooks'],
  summary: "The webhook's delivery log, newest first (50 per page unless `limit` says otherwise)",
  description:
    'Kept WEBHOOK_LOG_DAYS (7) days once finished. `?state=failed` for what did not arrive. Pass `nextCursor` back as `cursor` for the next page.',
  request: { params: WebhookParams, query: DeliveriesQuery },
  responses: {
    200: jsonContent(pageEnvelope(DeliveryData), 'Deliveries'),
    ...errorResponses(400, 404),
  },
})

export const registerListDeliveries = (app: App) =>
  app.openapi(route, async (c) => {
    const page = await c
      .get('services')
      .webhooks.deliveries(c.req.valid('param').webhookId, c.req.valid('query'))
    return c.json({ success: true as const, ...page }, 200)
  })
