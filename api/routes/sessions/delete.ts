import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { SessionMessageData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'delete',
  path: '/api/sessions/{sessionId}',
  tags: ['Sessions'],
  summary: 'Delete a session, its auth, statuses and viewers',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(SessionMessageData), 'Session deleted'),
    ...errorResponses(400, 404),
  },
})

export const registerDeleteSession = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c
      .get('services')
      .sessions.delete(c.req.valid('param').sessionId, { requestId: c.get('requestId') })
    return c.json({ success: true as const, data }, 200)
  })
