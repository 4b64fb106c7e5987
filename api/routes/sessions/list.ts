import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { sendJson } from '../../responses.js'
import { Session } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions',
  tags: ['Sessions'],
  summary: 'List all sessions with their connection state',
  description: 'With a key limited to some sessions, those sessions.',
  responses: {
    200: jsonContent(envelope(z.array(Session)), 'Sessions'),
    ...errorResponses(),
  },
})

export const registerListSessions = (app: App) =>
  app.openapi(route, async (c) => {
    const sessions = c.get('services').sessions
    const limited = c.get('scopedKey')?.sessionIds
    if (limited) return c.json({ success: true as const, data: await sessions.listFor(limited) }, 200)
    return sendJson(c, await sessions.listAnswer(), 200)
  })
