import { createRoute } from '@hono/zod-openapi'
import { jsonContent, publicErrorResponses } from '../../openapi.js'
import { SignedUploadQuery, UploadParams, UploadResponse } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'put',
  path: '/api/uploads/{filename}',
  tags: ['Media uploads'],
  summary: 'Upload the file behind a signed link',
  description:
    "Needs no API key: the link's signature authorises it. The body is the raw file; its type is read " +
    'from its bytes. A link accepts one upload (409 afterwards) and expires.',
  security: [],
  request: {
    params: UploadParams,
    query: SignedUploadQuery,
    // Documented only: a non-JSON body is not validated (or buffered) by zod-openapi.
    body: {
      required: true,
      content: {
        'application/octet-stream': { schema: { type: 'string' as const, format: 'binary' } },
      },
    },
  },
  responses: {
    201: jsonContent(UploadResponse, 'Stored'),
    ...publicErrorResponses(400, 401, 409, 413, 415),
  },
})

export const registerSignedUpload = (app: App) =>
  app.openapi(route, async (c) => {
    const { filename } = c.req.valid('param')
    const data = await c.get('services').uploads.receiveSigned(filename, c.req.valid('query'), c.req.raw)
    return c.json({ success: true as const, filename: data.filename, data }, 201)
  })
