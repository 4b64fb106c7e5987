import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { PairingCodeData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/pairing-code',
  tags: ['Authentication state'],
  summary: 'The current pairing code of a session',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(PairingCodeData), 'Pairing code (null when none is pending)'),
    ...errorResponses(400, 404),
  },
})

export const registerPairingCode = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').sessions.pairingCode(c.req.valid('param').sessionId)
    return c.json({ success: true as const, data }, 200)
  })
