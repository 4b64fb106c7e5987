import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  createTestContext,
  fixtures,
  type ListeningApp,
  listenOnSocket,
  TEST_API_KEY,
  type TestContext,
} from './test-support.js'
import type { AppLogger } from './types.js'

/**
 * A client that goes away in the middle of its request body is the client's doing: the process
 * logs one warn line for it, no error, stores nothing and keeps answering. Real server, raw sockets.
 */

interface Line {
  level: 'info' | 'warn' | 'error'
  data: Record<string, unknown>
  message?: string
}
const lines: Line[] = []
const logger: AppLogger = {
  info: (data, message) => lines.push({ level: 'info', data, ...(message ? { message } : {}) }),
  warn: (data, message) => lines.push({ level: 'warn', data, ...(message ? { message } : {}) }),
  error: (data, message) => lines.push({ level: 'error', data, ...(message ? { message } : {}) }),
}

let t: TestContext
let server: ListeningApp
let port: number

beforeAll(async () => {
  t = await createTestContext({ logger })
  await t.seedSession('abort1', { state: 'open' })
  server = await listenOnSocket(t.app)
  port = server.port
})
afterAll(async () => {
  await server.close()
  await t.close()
})

/** Sends the head and part of the body, then resets the connection. */
const abandon = async (head: string, partialBody: Buffer) => {
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(head)
  socket.write(partialBody)
  // Give the server the chance to start reading before the client disappears.
  await vi.waitFor(() => expect(socket.bytesWritten).toBe(head.length + partialBody.length))
  await new Promise((resolve) => setTimeout(resolve, 50))
  socket.resetAndDestroy()
}

const BOUNDARY = 'abort-boundary'

describe('a client that aborts its request body', () => {
  it.each([
    {
      what: 'a JSON status with a Content-Length longer than what came',
      head: (length: number) =>
        `POST /api/sessions/abort1/send-status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: ${TEST_API_KEY}\r\nContent-Length: ${length}\r\n\r\n`,
      body: Buffer.from(`{"type":"text","content":"${'a'.repeat(2000)}`),
    },
    {
      what: 'a multipart image upload cut off in its file',
      head: (length: number) =>
        `POST /api/upload-image HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nX-API-Key: ${TEST_API_KEY}\r\nContent-Length: ${length}\r\n\r\n`,
      body: Buffer.concat([
        Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="f.png"\r\nContent-Type: image/png\r\n\r\n`,
        ),
        Buffer.from(fixtures.png),
        Buffer.alloc(64 * 1024, 1),
      ]),
    },
  ])('$what: one warn line, no error, nothing stored, still answering', async ({ head, body }) => {
    lines.length = 0
    const rows = async (table: string) =>
      Number((await t.client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n)
    const [statusesBefore, uploadsBefore] = [await rows('statuses'), await rows('uploads')]
    await abandon(head(body.length * 4), body)
    await vi.waitFor(() =>
      expect(lines.filter((line) => line.level === 'warn').map((line) => line.message)).toContain(
        'client closed the request before it was answered',
      ),
    )
    expect(lines.filter((line) => line.level === 'error')).toEqual([])
    const warned = lines.find((line) => line.level === 'warn')
    expect(warned?.data).toMatchObject({ method: 'POST' })
    expect(JSON.stringify(lines)).not.toContain('aaaa')
    expect(await rows('statuses')).toBe(statusesBefore)
    expect(await rows('uploads')).toBe(uploadsBefore)
    const health = await fetch(`http://127.0.0.1:${port}/api/health`)
    expect(health.status).toBe(200)
  })
})
