import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { AnalyticsQuery, StatusAnalyticsData, StatusParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/analytics/statuses/{statusId}',
  tags: ['Analytics'],
  summary: 'Reach of a status: audience, viewers, who has not viewed yet, views over time',
  description:
    'Your own number is not part of the audience, and views from your own devices do not count. A ' +
    'viewer known only by LID counts as a viewer but cannot be matched to an audience number, so ' +
    'that number stays in `notViewed` (see `unresolvedViewers`).',
  request: { params: StatusParams, query: AnalyticsQuery },
  responses: {
    200: jsonContent(envelope(StatusAnalyticsData), 'Analytics of the status'),
    ...errorResponses(400, 404),
  },
})

export const registerStatusAnalytics = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId, statusId } = c.req.valid('param')
    const { bucket } = c.req.valid('query')
    const data = await c.get('services').analytics.status(sessionId, statusId, bucket)
    return c.json({ success: true as const, data }, 200)
  })
