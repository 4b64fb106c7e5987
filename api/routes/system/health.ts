import { createRoute } from '@hono/zod-openapi'
import { envelope, jsonContent, healthErrorResponses } from '../../openapi.js'
import { HealthData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/health',
  tags: ['System'],
  summary: 'Health check (no API key needed)',
  security: [],
  responses: {
    200: jsonContent(envelope(HealthData), 'Healthy'),
    ...healthErrorResponses(),
  },
})

export const registerHealth = (app: App) =>
  app.openapi(route, (c) => c.json({ success: true as const, data: c.get('services').system.health() }, 200))
