import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { CreatedWebhookData, CreateWebhookBody } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/webhooks',
  tags: ['Webhooks'],
  summary: "Register a URL that receives events (every session's, or one session's), signed",
  description:
    'The answer holds the signing secret, shown only here. The URL follows the rules of media URLs (public addresses only, unless its host is in WEBHOOK_ALLOWED_HOSTS).',
  request: { body: jsonBody(CreateWebhookBody) },
  responses: {
    201: jsonContent(envelope(CreatedWebhookData), 'Webhook registered'),
    ...errorResponses(400, 404),
  },
})

export const registerCreateWebhook = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').webhooks.create(c.req.valid('json'))
    return c.json({ success: true as const, data }, 201)
  })
