import { createRoute } from '@hono/zod-openapi'
import { errorResponses, jsonContent } from '../../openapi.js'
import { ContactData, PageQuery, pageEnvelope, SessionParams } from '../../schemas.js'
import { pageOf } from '../../services/pages.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions/{sessionId}/contacts',
  tags: ['Contacts'],
  summary:
    'The account\'s contacts as the phone synced them, by number (`targetNumbers: "all"` sends to them)',
  description: 'Whole by default; with `limit`, a page at a time: pass `nextCursor` back as `cursor`.',
  request: { params: SessionParams, query: PageQuery },
  responses: {
    200: jsonContent(pageEnvelope(ContactData), 'Contacts'),
    ...errorResponses(400, 404),
  },
})

export const registerListContacts = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId } = c.req.valid('param')
    const { limit, cursor } = c.req.valid('query')
    const contacts = await c.get('services').audiences.contacts(sessionId)
    if (limit === undefined && cursor === undefined)
      return c.json({ success: true as const, data: contacts }, 200)
    const page = pageOf(contacts, (contact) => [0, contact.number], 'ascending', {
      limit: limit ?? 100,
      cursor,
    })
    return c.json({ success: true as const, data: page.items, nextCursor: page.nextCursor }, 200)
  })
