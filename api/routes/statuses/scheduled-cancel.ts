import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { ScheduledParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'delete',
  path: '/api/sessions/{sessionId}/scheduled-statuses/{scheduledId}',
  tags: ['Statuses'],
  summary: 'Cancel a scheduled status (and its repeats) before it is sent',
  request: { params: ScheduledParams },
  responses: {
    200: jsonContent(envelope(z.object({ scheduledId: z.string(), message: z.string() })), 'Cancelled'),
    ...errorResponses(400, 404, 409),
  },
})

export const registerCancelScheduled = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId, scheduledId } = c.req.valid('param')
    const data = await c.get('services').statuses.cancelScheduled(sessionId, scheduledId)
    return c.json({ success: true as const, data }, 200)
  })
