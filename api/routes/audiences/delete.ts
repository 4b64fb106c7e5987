import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { AudienceParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'delete',
  path: '/api/sessions/{sessionId}/audiences/{audienceId}',
  tags: ['Audiences'],
  summary: 'Delete a saved audience (statuses sent to it keep their numbers)',
  request: { params: AudienceParams },
  responses: {
    200: jsonContent(envelope(z.object({ audienceId: z.string(), message: z.string() })), 'Audience deleted'),
    ...errorResponses(400, 404),
  },
})

export const registerDeleteAudience = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId, audienceId } = c.req.valid('param')
    const data = await c.get('services').audiences.delete(sessionId, audienceId)
    return c.json({ success: true as const, data }, 200)
  })
