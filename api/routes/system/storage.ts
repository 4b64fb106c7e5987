import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { StorageData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/storage',
  tags: ['System'],
  summary: 'Database size and per-session storage usage',
  responses: {
    200: jsonContent(envelope(StorageData), 'Storage usage'),
    ...errorResponses(),
  },
})

export const registerStorage = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').system.storage()
    return c.json({ success: true as const, data }, 200)
  })
