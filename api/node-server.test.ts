import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Messages } from '../shared/errors.js'
import {
  body,
  createTestContext,
  fixtures,
  type ListeningApp,
  listenOnSocket,
  TEST_API_KEY,
  type TestContext,
} from './test-support.js'

/** The app behind a real @hono/node-server socket: client address from the socket, real request streams. */
let t: TestContext
let server: ListeningApp
let base: string

beforeEach(async () => {
  t = await createTestContext({ env: { RATE_LIMIT_MAX: '5' } })
  server = await listenOnSocket(t.app)
  base = server.base
})
afterEach(async () => {
  await server.close()
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
