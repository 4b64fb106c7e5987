import { createRoute } from '@hono/zod-openapi'
import { errorResponses, jsonContent } from '../../openapi.js'
import { sendJson } from '../../responses.js'
import { PageQuery, pageEnvelope, SessionParams, StatusView } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/sent-statuses',
  tags: ['Statuses'],
  summary: 'Statuses sent in the retention window (24 h by default), newest first',
  description: 'Whole by default; with `limit`, a page at a time: pass `nextCursor` back as `cursor`.',
  request: { params: SessionParams, query: PageQuery },
  responses: {
    200: jsonContent(pageEnvelope(StatusView), 'Statuses'),
    ...errorResponses(400, 404),
  },
})

export const registerListStatuses = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId } = c.req.valid('param')
    const { limit, cursor } = c.req.valid('query')
    const statuses = c.get('services').statuses
    if (limit === undefined && cursor === undefined) {
      return sendJson(c, await statuses.listAnswer(sessionId), 200)
    }
    const page = await statuses.listPage(sessionId, { limit: limit ?? 100, cursor })
    return c.json({ success: true as const, ...page }, 200)
  })
