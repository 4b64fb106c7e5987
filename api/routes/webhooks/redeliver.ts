import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { DeliveryData, DeliveryParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
  tags: ['Webhooks'],
  summary: 'Send a delivery again: the same body as a new delivery, queued now',
  request: { params: DeliveryParams },
  responses: {
    202: jsonContent(envelope(DeliveryData), 'Queued'),
    ...errorResponses(400, 404),
  },
})

export const registerRedeliver = (app: App) =>
  app.openapi(route, async (c) => {
    const { webhookId, deliveryId } = c.req.valid('param')
    const data = await c.get('services').webhooks.redeliver(webhookId, deliveryId)
    return c.json({ success: true as const, data }, 202)
  })
