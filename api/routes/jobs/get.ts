import { createRoute } from '@hono/zod-openapi'
import { mayUseSession } from '../../../shared/security/scoped-keys.js'
import { envelope, errorResponses, jsonContent } from '../../openapi.js'
import { JobData, JobParams } from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'get',
  path: '/api/jobs/{jobId}',
  tags: ['Statuses'],
  summary: "A big audience's send: progress and each chunk's outcome",
  description:
    'The job a send-status to more than STATUS_JOB_THRESHOLD numbers answered with (202). Chunks go out ' +
    "one after the other, all with the status's one message id; a chunk WhatsApp refused or did not " +
    'acknowledge is retried with that id up to STATUS_CHUNK_ATTEMPTS times (429: after ' +
    'STATUS_RATE_LIMIT_BACKOFF_MS, doubling). The Socket.IO event `status-send-progress` carries the same ' +
    'counts after every chunk.',
  request: { params: JobParams },
  responses: {
    200: jsonContent(envelope(JobData), 'The job'),
    ...errorResponses(400, 404),
  },
})

export const registerGetJob = (app: App) =>
  app.openapi(route, async (c) => {
    const key = c.get('scopedKey')
    const data = await c
      .get('services')
      .statuses.getJob(c.req.valid('param').jobId, (sessionId) => !key || mayUseSession(key, sessionId))
    return c.json({ success: true as const, data }, 200)
  })
