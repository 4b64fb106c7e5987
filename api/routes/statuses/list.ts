import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { sendJson } from '../../responses.js'
import { SessionParams, StatusView } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/sent-statuses',
  tags: ['Statuses'],
  summary: 'Statuses sent in the retention window (24 h by default), newest first',
  request: { params: SessionParams },
  responses: {
    200: jsonContent(envelope(z.array(StatusView)), 'Statuses'),
    ...errorResponses(400, 404),
  },
})

export const registerListStatuses = (app: App) =>
  app.openapi(route, async (c) =>
    sendJson(c, await c.get('services').statuses.listAnswer(c.req.valid('param').sessionId), 200),
  )
