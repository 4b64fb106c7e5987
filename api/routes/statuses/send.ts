import { createRoute } from '@hono/zod-openapi'
import { BUS_ERRORS, envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { SendStatusBody, SendStatusData, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/sessions/{sessionId}/send-status',
  tags: ['Statuses'],
  summary: 'Post a text, image, video or URL status',
  description:
    'For image/video, `content` is a filename returned by an upload. For url, an http(s) URL to public ' +
    'media. Answers once WhatsApp has acknowledged the status; 409 when the session is not connected.',
  request: { params: SessionParams, body: jsonBody(SendStatusBody) },
  responses: {
    200: jsonContent(envelope(SendStatusData), 'Status sent'),
    ...errorResponses(400, 404, 409, ...BUS_ERRORS),
  },
})

export const registerSendStatus = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId } = c.req.valid('param')
    const data = await c
      .get('services')
      .statuses.send(sessionId, c.req.valid('json'), { requestId: c.get('requestId') })
    return c.json({ success: true as const, data }, 200)
  })
