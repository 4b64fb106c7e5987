import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { ApiKeyData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/keys',
  tags: ['API keys'],
  summary: 'API keys, newest first, revoked ones included, with their last use (admin key only)',
  responses: {
    200: jsonContent(envelope(z.array(ApiKeyData)), 'Keys'),
    ...errorResponses(),
  },
})

export const registerListKeys = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').apiKeys.list()
    return c.json({ success: true as const, data }, 200)
  })
