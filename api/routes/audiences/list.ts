import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { AudienceData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/audiences',
  tags: ['Audiences'],
  summary: "The session's saved audiences, newest first",
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(z.array(AudienceData)), 'Audiences'),
    ...errorResponses(400, 404),
  },
})

export const registerListAudiences = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').audiences.list(c.req.valid('param').sessionId)
    return c.json({ success: true as const, data }, 200)
  })
