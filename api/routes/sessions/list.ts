import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { Session } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/sessions',
  tags: ['Sessions'],
  summary: 'List all sessions with their connection state',
  responses: {
    200: jsonContent(envelope(z.array(Session)), 'Sessions'),
    ...errorResponses(),
  },
})

export const registerListSessions = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').sessions.list()
    return c.json({ success: true as const, data }, 200)
  })
