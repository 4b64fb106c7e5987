import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { AudienceData, CreateAudienceBody, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/sessions/{sessionId}/audiences',
  tags: ['Audiences'],
  summary: 'Save a named audience, to send statuses to by `audienceId`',
  request: { params: SessionParams, body: jsonBody(CreateAudienceBody) },
  responses: {
    201: jsonContent(envelope(AudienceData), 'Audience saved'),
    ...errorResponses(400, 404),
  },
})

export const registerCreateAudience = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').audiences.create(c.req.valid('param').sessionId, c.req.valid('json'))
    return c.json({ success: true as const, data }, 201)
  })
