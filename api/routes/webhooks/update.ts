import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { UpdateWebhookBody, WebhookData, WebhookParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'patch',
  path: '/api/webhooks/{webhookId}',
  tags: ['Webhooks'],
  summary: 'Change a webhook: URL, events, description, or pause (`active: false`) and resume it',
  description:
    'A paused webhook gets no new deliveries; those already queued still go out. The secret stays.',
  request: { params: WebhookParams, body: jsonBody(UpdateWebhookBody) },
  responses: {
    200: jsonContent(envelope(WebhookData), 'Webhook changed'),
    ...errorResponses(400, 404),
  },
})

export const registerUpdateWebhook = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').webhooks.update(c.req.valid('param').webhookId, c.req.valid('json'))
    return c.json({ success: true as const, data }, 200)
  })
