import { createRoute, z } from '@hono/zod-openapi'
import { errorResponses, jsonContent } from '../../openapi.js'
import { ContactsData, ContactsQuery, SessionParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/analytics/contacts',
  tags: ['Analytics'],
  summary: 'Who views your statuses: per contact, of your last N statuses, how many they got and viewed',
  description:
    'Looks at the latest `last` sent statuses, expired ones included while ANALYTICS_HISTORY_DAYS keeps ' +
    'them. Ranked by view rate (`sort`), a page at a time with `limit` and `cursor`. Your own number is ' +
    'left out; views by LID-only viewers cannot be tied to a number and are counted in `unresolvedViews`.',
  request: { params: SessionParams, query: ContactsQuery },
  responses: {
    200: jsonContent(
      z.object({
        success: z.literal(true),
        data: ContactsData,
        nextCursor: z.string().nullable().openapi({ description: 'The next page, null on the last one' }),
      }),
      'Contacts ranked',
    ),
    ...errorResponses(400, 404),
  },
})

export const registerContactAnalytics = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId } = c.req.valid('param')
    const { last, sort, limit, cursor } = c.req.valid('query')
    const answer = await c.get('services').analytics.contacts(sessionId, {
      last,
      sort,
      page: { limit: limit ?? 100, cursor },
    })
    return c.json({ success: true as const, ...answer }, 200)
  })
