import { createRoute } from '@hono/zod-openapi'
import { BUS_ERRORS, envelope, errorResponses, jsonContent } from '../../openapi.js'
import { DeleteStatusData, DeleteStatusQuery, StatusParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'delete',
  path: '/api/sessions/{sessionId}/delete-status/{statusId}',
  tags: ['Statuses'],
  summary: 'Remove a status from local tracking, or delete it for everyone',
  description:
    "By default this removes local data and the media file only; the status stays on recipients' phones " +
    "until its 24-hour expiry. With `forEveryone=true` the connector first sends WhatsApp's revoke to the " +
    'status\'s audience (as "delete for everyone" does on a phone) and the answer comes once the server ' +
    'acknowledged it (`deletedFromWhatsApp: true`); if WhatsApp refuses or does not answer, nothing is ' +
    'removed. Only a sent status of a connected session can be deleted for everyone (409 otherwise).',
  request: { params: StatusParams, query: DeleteStatusQuery },
  responses: {
    200: jsonContent(envelope(DeleteStatusData), 'Status removed (and revoked, with forEveryone)'),
    ...errorResponses(400, 404, 409, ...BUS_ERRORS),
  },
})

export const registerDeleteStatus = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId, statusId } = c.req.valid('param')
    const { forEveryone } = c.req.valid('query')
    const data = await c
      .get('services')
      .statuses.delete(sessionId, statusId, { forEveryone }, { requestId: c.get('requestId') })
    return c.json({ success: true as const, data }, 200)
  })
