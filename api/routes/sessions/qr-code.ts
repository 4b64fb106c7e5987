import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { QrCodeData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/qr-code',
  tags: ['Authentication state'],
  summary: 'The current QR code (PNG data URL) of a session',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(QrCodeData), 'QR code (null when none is pending)'),
    ...errorResponses(400, 404),
  },
})

export const registerQrCode = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').sessions.qrCode(c.req.valid('param').sessionId)
    return c.json({ success: true as const, data }, 200)
  })
