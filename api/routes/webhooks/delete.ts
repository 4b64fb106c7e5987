import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { WebhookParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'delete',
  path: '/api/webhooks/{webhookId}',
  tags: ['Webhooks'],
  summary: 'Remove a webhook and its delivery log (deliveries still queued are dropped)',
  request: { params: WebhookParams },
  responses: {
    200: jsonContent(envelope(z.object({ webhookId: z.string(), message: z.string() })), 'Webhook deleted'),
    ...errorResponses(400, 404),
  },
})

export const registerDeleteWebhook = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').webhooks.delete(c.req.valid('param').webhookId)
    return c.json({ success: true as const, data }, 200)
  })
