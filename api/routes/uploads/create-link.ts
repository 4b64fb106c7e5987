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
    'PUT the file to `uploadUrl` with the returned headers before `expiresAt`, then use `filename` as ' +
    'the `content` of an image or video status. Where the link points depends on the media store. ' +
    "With the local store (embedded mode) it is the API's own `PUT /api/uploads/{filename}`, which " +
    'takes one upload of at most `size` bytes and checks its type as the bytes arrive. With S3 storage ' +
    'it is a presigned PUT to the store itself, signed for the declared `contentType` and **exactly** ' +
    '`size` bytes: the store refuses a body of any other size or type (403 from the store). As the API ' +
    'never sees those bytes, the first status that uses the file checks them: a file that is not ' +
    'the declared type is refused with 415 and removed.',
  request: { body: jsonBody(CreateUploadLinkBody) },
  responses: {
    201: jsonContent(envelope(UploadLinkData), 'Signed upload link'),
    ...errorResponses(400, 413, 415),
  },
})

export const registerCreateUploadLink = (app: App) =>
  app.openapi(route, async (c) => {
    const data = await c.get('services').uploads.createLink(c.req.valid('json'), new URL(c.req.url).origin)
    return c.json({ success: true as const, data }, 201)
  })
