import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { ScheduledData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/scheduled-statuses',
  tags: ['Statuses'],
  summary: 'Scheduled statuses: pending ones and how earlier ones went, by send time',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(z.array(ScheduledData)), 'Scheduled statuses'),
    ...errorResponses(400, 404),
  },
})

export const registerListScheduled = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').statuses.listScheduled(c.req.valid('param').sessionId)
    return c.json({ success: true as const, data }, 200)
  })
