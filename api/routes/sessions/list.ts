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
  responses: {
    200: jsonContent(envelope(z.array(Session)), 'Sessions'),
    ...errorResponses(),
  },
})

export const registerListSessions = (app: App) =>
  app.openapi(route, async (c) => sendJson(c, await c.get('services').sessions.listAnswer(), 200))
