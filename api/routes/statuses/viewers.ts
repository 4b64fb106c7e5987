import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { sendJson } from '../../responses.js'
import { StatusParams, Viewer } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/status-viewers/{statusId}',
  tags: ['Statuses'],
  summary: 'Who viewed a status, with the time of their first view',
  description: "`isReal` is false when only the viewer's LID is known, not their phone number.",
  request: { params: StatusParams },
  responses: {
    200: jsonContent(envelope(z.array(Viewer)), 'Viewers'),
    ...errorResponses(400, 404),
  },
})

export const registerStatusViewers = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId, statusId } = c.req.valid('param')
    return sendJson(c, await c.get('services').statuses.viewersAnswer(sessionId, statusId), 200)
  })
