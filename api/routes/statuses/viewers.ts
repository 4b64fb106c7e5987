import { createRoute } from '@hono/zod-openapi'
import { errorResponses, jsonContent } from '../../openapi.js'
import { sendJson } from '../../responses.js'
import { pageEnvelope, StatusParams, Viewer, ViewersQuery } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/status-viewers/{statusId}',
  tags: ['Statuses'],
  summary: 'Who viewed a status, with the time of their first view',
  description:
    "`isReal` is false when only the viewer's LID is known, not their phone number. First view first; " +
    'whole by default, a page at a time with `limit` (pass `nextCursor` back as `cursor`), or every ' +
    'viewer as CSV (`number,lid,jid,viewedAt`) with `format=csv` or `Accept: text/csv`.',
  request: { params: StatusParams, query: ViewersQuery },
  responses: {
    200: {
      ...jsonContent(pageEnvelope(Viewer), 'Viewers'),
      content: {
        ...jsonContent(pageEnvelope(Viewer), 'Viewers').content,
        'text/csv': { schema: { type: 'string' as const } },
      },
    },
    ...errorResponses(400, 404),
  },
})

/** CSV when asked by `format`, or by an Accept header that names CSV and not JSON. */
const wantsCsv = (format: string | undefined, accept: string | undefined) =>
  format === 'csv' ||
  (format === undefined && accept !== undefined && /\btext\/csv\b/.test(accept) && !/\bjson\b/.test(accept))

export const registerStatusViewers = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId, statusId } = c.req.valid('param')
    const { limit, cursor, format } = c.req.valid('query')
    const statuses = c.get('services').statuses
    if (wantsCsv(format, c.req.header('accept'))) {
      const csv = await statuses.viewersCsv(sessionId, statusId)
      return c.body(csv, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="viewers-${sessionId}-${statusId}.csv"`,
      }) as never
    }
    if (limit === undefined && cursor === undefined) {
      return sendJson(c, await statuses.viewersAnswer(sessionId, statusId), 200)
    }
    const page = await statuses.viewersPage(sessionId, statusId, { limit: limit ?? 100, cursor })
    return c.json({ success: true as const, ...page }, 200)
  })
