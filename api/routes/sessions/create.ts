import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { CreateSessionBody, CreateSessionData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/sessions',
  tags: ['Sessions'],
  summary: 'Create and start a session',
  description:
    'Stores the session and asks the connector to start it. `phoneNumber` is required for the pairing method. ' +
    '`started` is false when no connector answered; the session exists either way.',
  request: { body: jsonBody(CreateSessionBody) },
  responses: {
    201: jsonContent(envelope(CreateSessionData), 'Session created'),
    ...errorResponses(400, 409),
  },
})

export const registerCreateSession = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c
      .get('services')
      .sessions.create(c.req.valid('json'), { requestId: c.get('requestId') })
    return c.json({ success: true as const, data }, 201)
  })
