import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { WebhookData, WebhookListQuery } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/webhooks',
  tags: ['Webhooks'],
  summary: 'Registered webhooks, newest first (secrets are never shown again)',
  request: { query: WebhookListQuery },
  responses: {
    200: jsonContent(envelope(z.array(WebhookData)), 'Webhooks'),
    ...errorResponses(400, 404),
  },
})

export const registerListWebhooks = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').webhooks.list(c.req.valid('query').sessionId)
    return c.json({ success: true as const, data }, 200)
  })
