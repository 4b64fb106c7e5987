import { createRoute, z } from '@hono/zod-openapi'
import { BUS_ERRORS, envelope, errorResponses, jsonBody, jsonContent } from '../../openapi.js'
import {
  JobStartedData,
  ScheduledData,
  SendStatusBody,
  SendStatusData,
  SessionParams,
} from '../../schemas.js'
import type { App } from '../../types.js'

const route = createRoute({
  method: 'post',
  path: '/api/sessions/{sessionId}/send-status',
  tags: ['Statuses'],
  summary: 'Post a text, image, video or URL status',
  description:
    'For image/video, `content` is a filename returned by an upload. For url, an http(s) URL to public ' +
    'media. Answers once WhatsApp has acknowledged the status; 409 when the session is not connected. ' +
    'With `sendAt` the status is checked now and stored, and the connector holding the session sends it ' +
    'then (once, even across restarts; `repeat` daily or weekly): 202 with the `scheduledId`. One whose ' +
    'time passed while nothing could send it is still sent within SCHEDULE_GRACE_SECONDS, else marked missed. ' +
    'An audience larger than STATUS_JOB_THRESHOLD (default 1000) is sent as a job: 202 at once with a ' +
    '`jobId`; the connector sends it in chunks of STATUS_CHUNK_SIZE that share one message id, retrying a ' +
    'failed chunk with that id; `GET /api/jobs/{jobId}` and the `status-send-progress` event report each chunk.',
  request: { params: SessionParams, body: jsonBody(SendStatusBody) },
  responses: {
    200: jsonContent(envelope(SendStatusData), 'Status sent'),
    202: jsonContent(
      envelope(z.union([ScheduledData.extend({ message: z.string() }), JobStartedData])),
      "Status scheduled, or a big audience's send started as a job",
    ),
    ...errorResponses(400, 404, 409, ...BUS_ERRORS),
  },
})

export const registerSendStatus = (app: App) =>
  app.openapi(route, async (c) => {
    const { sessionId } = c.req.valid('param')
    const input = c.req.valid('json')
    const statuses = c.get('services').statuses
    if (input.sendAt !== undefined) {
      const data = await statuses.schedule(sessionId, { ...input, sendAt: input.sendAt })
      return c.json({ success: true as const, data }, 202)
    }
    const data = await statuses.send(sessionId, input, { requestId: c.get('requestId') })
    if ('jobId' in data) return c.json({ success: true as const, data }, 202)
    return c.json({ success: true as const, data }, 200)
  })
