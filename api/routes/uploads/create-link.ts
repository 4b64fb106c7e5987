import { createRoute } from '@hono/zod-openapi'
import { envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import { CreateUploadLinkBody, UploadLinkData } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/uploads',
  tags: ['Media uploads'],
  summary: 'Get a signed link for one direct PUT of a media file',
  description:
    'PUT the file to `uploadUrl` with the returned headers before `expiresAt`; the link takes one upload ' +
    'of at most `size` bytes. Then use `filename` as the `content` of an image or video status.',
  request: { body: jsonBody(CreateUploadLinkBody) },
  responses: {
    201: jsonContent(envelope(UploadLinkData), 'Signed upload link'),
    ...errorResponses(400, 413, 415),
  },
})

export const registerCreateUploadLink = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').uploads.createLink(c.req.valid('json'))
    return c.json({ success: true as const, data }, 201)
  })
