import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { StatsData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/stats',
  tags: ['System'],
  summary: 'Aggregate statistics over all sessions',
  responses: {
    200: jsonContent(envelope(StatsData), 'Statistics'),
    ...errorResponses(),
  },
})

export const registerStats = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').system.stats()
    return c.json({ success: true as const, data }, 200)
  })
