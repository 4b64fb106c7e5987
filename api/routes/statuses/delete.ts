import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { DeleteStatusData, StatusParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'delete',
  path: '/api/sessions/{sessionId}/delete-status/{statusId}',
  tags: ['Statuses'],
  summary: 'Remove a status from local tracking',
  description:
    'WhatsApp does not allow deleting a published status via API: this removes local data and the media ' +
    "file; the status stays on recipients' phones until its 24-hour expiry.",
  request: { params: StatusParams },
  responses: {
    200: jsonContent(envelope(DeleteStatusData), 'Status removed locally'),
    ...errorResponses(400, 404),
  },
})

export const registerDeleteStatus = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId, statusId } = c.req.valid('param')
    const data = await c.get('services').statuses.delete(sessionId, statusId)
    return c.json({ success: true as const, data }, 200)
  })
