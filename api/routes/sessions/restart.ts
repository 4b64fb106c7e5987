import { createRoute } from '@hono/zod-openapi'
import { BUS_ERRORS, envelope, errorResponses, jsonContent } from '../../openapi.js'
import { SessionMessageData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/sessions/{sessionId}/restart',
  tags: ['Sessions'],
  summary: 'Tear down and reconnect a session',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(SessionMessageData), 'Session restarted'),
    ...errorResponses(400, 404, ...BUS_ERRORS),
  },
})

export const registerRestartSession = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c
      .get('services')
      .sessions.restart(c.req.valid('param').sessionId, { requestId: c.get('requestId') })
    return c.json({ success: true as const, data }, 200)
  })
