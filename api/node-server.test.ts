import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Messages } from '../shared/errors.js'
import { body, createTestContext, fixtures, TEST_API_KEY, type TestContext } from './test-support.js'

/** The app behind a real @hono/node-server socket: client address from the socket, real request streams. */
let t: TestContext
let server: ReturnType<typeof serve>
let base: string

beforeEach(async () => {
  t = await createTestContext({ env: { RATE_LIMIT_MAX: '5' } })
  await new Promise<void>((resolve) => {
    server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve())
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(async () => {
  // Keep-alive sockets (and a request body still being drained after an early 413) would hold
  // close() open.
  const closed = new Promise((resolve) => server.close(resolve))
  ;(server as import('node:http').Server).closeAllConnections()
  await closed
  await t.close()
})

describe('on a Node server', () => {
  it('streams a multipart upload to storage', async () => {
    const data = new FormData()
    data.append('image', new Blob([fixtures.png], { type: 'image/png' }), 'a.png')
    const res = await fetch(`${base}/api/upload-image`, {
      method: 'POST',
      headers: { 'x-api-key': TEST_API_KEY },
      body: data,
    })
    expect(res.status).toBe(201)
    const json = await body(res)
    expect(await t.media.read(json.filename)).toEqual(fixtures.png)
  })

  it('refuses a declared oversize upload with 413', async () => {
    const big = new Uint8Array(3 * 1024 * 1024)
    big.set(fixtures.png)
    const data = new FormData()
    data.append('image', new Blob([big], { type: 'image/png' }), 'big.png')
    const res = await fetch(`${base}/api/upload-image`, {
      method: 'POST',
      headers: { 'x-api-key': TEST_API_KEY },
      body: data,
    })
    expect(res.status).toBe(413)
    expect(await body(res)).toEqual({ success: false, error: Messages.fileTooLarge })
  })

  it('rate-limits by the socket address and ignores a forged X-Forwarded-For', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/api/sessions`, {
        headers: { 'x-api-key': TEST_API_KEY, 'x-forwarded-for': `203.0.113.${i}` },
      })
      statuses.push(res.status)
      await res.arrayBuffer()
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
  })
})
