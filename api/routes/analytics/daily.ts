import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { DailyData, DailyQuery, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/analytics/daily',
  tags: ['Analytics'],
  summary: 'Totals per day: statuses sent, their audience, views and different viewers',
  description:
    'UTC days, oldest first, empty days included. Views count on the day they happened. Expired statuses ' +
    'count while ANALYTICS_HISTORY_DAYS keeps them.',
  request: { params: SessionParams, query: DailyQuery },
  responses: {
    200: jsonContent(envelope(DailyData), 'Totals per day'),
    ...errorResponses(400, 404),
  },
})

export const registerDailyAnalytics = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId } = c.req.valid('param')
    const data = await c.get('services').analytics.daily(sessionId, c.req.valid('query').days)
    return c.json({ success: true as const, data }, 200)
  })
