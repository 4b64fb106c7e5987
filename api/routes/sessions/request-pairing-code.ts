import { createRoute } from '@hono/zod-openapi'
import { BUS_ERRORS, envelope, errorResponses, jsonContent } from '../../openapi.js'
import { NewPairingCodeData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/sessions/{sessionId}/request-pairing-code',
  tags: ['Authentication state'],
  summary: 'Request a fresh 8-character pairing code',
  description:
    'Only before the session is linked. 409 when already connected or a request is in progress; ' +
    '400 when the session has no phone number.',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(NewPairingCodeData), 'New pairing code'),
    ...errorResponses(400, 404, 409, ...BUS_ERRORS),
  },
})

export const registerRequestPairingCode = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').sessions.requestPairingCode(c.req.valid('param').sessionId, {
      requestId: c.get('requestId'),
    })
    return c.json({ success: true as const, data }, 200)
  })
