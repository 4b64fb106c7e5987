import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { SessionParams, UpdatePhoneBody, UpdatePhoneData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'put',
  path: '/api/sessions/{sessionId}/phone-number',
  tags: ['Sessions'],
  summary: 'Update the pairing phone number',
  request: { params: SessionParams, body: jsonBody(UpdatePhoneBody) },
  responses: {
    200: jsonContent(envelope(UpdatePhoneData), 'Phone number updated'),
    ...errorResponses(400, 404),
  },
})

export const registerUpdatePhoneNumber = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId } = c.req.valid('param')
    const data = await c
      .get('services')
      .sessions.updatePhoneNumber(sessionId, c.req.valid('json').phoneNumber)
    return c.json({ success: true as const, data }, 200)
  })
