import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '../../openapi.js'
import { UploadParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/uploads/{filename}',
  tags: ['Media uploads'],
  summary: 'Download an uploaded media file',
  description:
    'The bytes of an upload (as stored, until its status is deleted or the unused upload expires), with ' +
    'the type read from them. Used by the dashboard to show image and video statuses.',
  request: { params: UploadParams },
  responses: {
    200: {
      description: 'The file',
      content: {
        'image/*': { schema: { type: 'string' as const, format: 'binary' } },
        'video/*': { schema: { type: 'string' as const, format: 'binary' } },
      },
    },
    ...errorResponses(400, 404),
  },
})

export const registerDownloadUpload = (app: App) =>
  app.openapi(route, async (c) => {
    const { filename } = c.req.valid('param')
    const file = await c.get('services').uploads.open(filename)
    // Private, and the same name always holds the same bytes: the browser may keep it a day.
    return c.body(file.body, 200, {
      'Content-Type': file.mime,
      'Content-Length': String(file.size),
      'Cache-Control': 'private, max-age=86400',
    }) as never
  })
