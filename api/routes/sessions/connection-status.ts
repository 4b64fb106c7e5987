import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { ConnectionStatusData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/connection-status',
  tags: ['Authentication state'],
  summary: 'Connection state, auth method, current pairing code or QR, phone and own number',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(ConnectionStatusData), 'Connection status'),
    ...errorResponses(400, 404),
  },
})

export const registerConnectionStatus = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').sessions.connectionStatus(c.req.valid('param').sessionId)
    return c.json({ success: true as const, data }, 200)
  })
