import { createRoute, z } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { KeyParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'delete',
  path: '/api/keys/{keyId}',
  tags: ['API keys'],
  summary: 'Revoke an API key: refused from now on (within 2 s on other API instances)',
  request: { params: KeyParams },
  responses: {
    200: jsonContent(envelope(z.object({ keyId: z.string(), message: z.string() })), 'Key revoked'),
    ...errorResponses(400, 404),
  },
})

export const registerRevokeKey = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').apiKeys.revoke(c.req.valid('param').keyId)
    return c.json({ success: true as const, data }, 200)
  })
