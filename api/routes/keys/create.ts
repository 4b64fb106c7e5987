import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { CreatedKeyData, CreateKeyBody } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/keys',
  tags: ['API keys'],
  summary: 'Create an API key limited to scopes and sessions (admin key only)',
  description: 'The answer holds the key, shown only here; it is stored as a SHA-256 digest.',
  request: { body: jsonBody(CreateKeyBody) },
  responses: {
    201: jsonContent(envelope(CreatedKeyData), 'Key created'),
    ...errorResponses(400, 404),
  },
})

export const registerCreateKey = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').apiKeys.create(c.req.valid('json'))
    return c.json({ success: true as const, data }, 201)
  })
