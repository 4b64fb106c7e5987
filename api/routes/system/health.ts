import { createRoute, z } from '@hono/zod-openapi'
import { Messages } from '../../../shared/errors.js'
import { ErrorSchema, envelope, healthErrorResponses, jsonContent } from '../../openapi.js'
import { sendJson } from '../../responses.js'
import { HealthData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/health',
  tags: ['System'],
  summary: 'Health check (no API key needed; with it, the live connectors too)',
  description:
    'Up/down for the database, Redis, media storage and connectors. 200 while the database answers ' +
    '(`status` says `degraded` when something else is down), 503 when it does not.',
  security: [],
  responses: {
    200: jsonContent(envelope(HealthData), 'The API answers'),
    503: jsonContent(z.object({ ...ErrorSchema.shape, data: HealthData }), 'The database is unreachable'),
    ...healthErrorResponses(),
  },
})

export const registerHealth = (app: App) =>
  app.openapi(route, async (c) => {
    const { system } = c.get('services')
    // The connector list says how the deployment is laid out: only for callers with the key.
    if (!c.get('authenticated')) {
      const answer = await system.healthAnswer()
      return answer.status === 503 ? sendJson(c, answer.body, 503) : sendJson(c, answer.body, 200)
    }
    const health = await system.health()
    const data = { ...health, connectors: await system.connectors() }
    if (health.status === 'unhealthy') {
      return c.json({ success: false as const, error: Messages.databaseDown, data }, 503)
    }
    return c.json({ success: true as const, data }, 200)
  })
