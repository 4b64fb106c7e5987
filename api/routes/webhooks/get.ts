import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { WebhookData, WebhookParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/webhooks/{webhookId}',
  tags: ['Webhooks'],
  summary: 'One webhook',
  request: { params: WebhookParams },
  responses: {
    200: jsonContent(envelope(WebhookData), 'Webhook'),
    ...errorResponses(400, 404),
  },
})

export const registerGetWebhook = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').webhooks.get(c.req.valid('param').webhookId)
    return c.json({ success: true as const, data }, 200)
  })
