import { createRoute } from '@hono/zod-openapi'
import type { MediaKind } from '../../../shared/media-types.js'
import { errorResponses, jsonContent } from '../../openapi.js'
import { multipartFileBody, UploadResponse } from '../../schemas.js'
import type { App } from '../../types.js'

/** The two multipart upload routes differ only in their field and accepted kind. */
export const registerMultipartUpload = (app: App, kind: MediaKind) => {
  const route = createRoute({
    method: 'post',
    path: `/api/upload-${kind}`,
    tags: ['Media uploads'],
    summary: `Upload ${kind === 'image' ? 'an image' : 'a video'} (multipart field \`${kind}\`)`,
    description:
      `Streams the file to storage; the type is read from the file's bytes. Max size MAX_UPLOAD_MB. ` +
      `Returns the stored filename to pass as \`content\` of a ${kind} status.`,
    request: { body: multipartFileBody(kind) },
    responses: {
      201: jsonContent(UploadResponse, 'Stored'),
      ...errorResponses(400, 413, 415),
    },
  })
  return app.openapi(route, async (c) => {
    const data = await c.get('services').uploads.receiveForm(kind, c.req.raw)
    return c.json({ success: true as const, filename: data.filename, data }, 201)
  })
}
