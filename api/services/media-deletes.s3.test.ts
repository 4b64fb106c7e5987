import pino from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RetentionJob } from '../../connector/retention.js'
import { S3MediaStore } from '../../shared/storage/s3.js'
import { S3TestServer } from '../../tests/support/s3-server.js'
import { body, chunks, createTestContext, fixtures, type TestContext } from '../test-support.js'

/**
 * Every way a status or upload goes away removes its object from S3 too: a status delete, a session
 * delete, the retention job's expiry and its orphan sweep. A real S3 API (s3rver); the bucket is
 * listed to prove the objects are gone, not just that the store says so.
 */

const HOUR = 3_600_000

let s3: S3TestServer
let store: S3MediaStore
let t: TestContext
let now: number

beforeAll(async () => {
  s3 = await S3TestServer.start()
})
afterAll(async () => {
  await s3?.close()
})
beforeEach(async () => {
  now = Date.now()
  store = new S3MediaStore({
    endpoint: s3.endpoint,
    region: S3TestServer.region,
    bucket: s3.bucket,
    accessKeyId: S3TestServer.accessKeyId,
    secretAccessKey: S3TestServer.secretAccessKey,
    forcePathStyle: true,
  })
  t = await createTestContext({ media: store, clock: () => now })
  await t.seedSession('personal', { state: 'open' })
})
afterEach(async () => {
  await t.close()
  store.close()
})

/** An image status whose upload lives in the bucket. */
const imageStatus = async (fields: { expiresAt?: number } = {}) => {
  const upload = await t.seedUpload('image')
  const status = await t.seedStatus('personal', {
    type: 'image',
    content: upload.filename,
    mediaFilename: upload.filename,
    ...fields,
  })
  expect(await s3.keys()).toContain(upload.filename)
  return { filename: upload.filename, status }
}

const retention = () =>
  new RetentionJob({
    repos: t.repos,
    media: store,
    events: { publish: async () => {} },
    logger: pino({ level: 'silent' }),
    intervalMs: 60_000,
    now: () => now,
    orphanUploadAgeMs: 2 * HOUR,
    pendingGiveUpMs: 360_000,
  })

describe('media objects in S3 go with what uses them', () => {
  it('a status delete removes its object (a file another status shares stays until the last goes)', async () => {
    const { filename, status } = await imageStatus()
    const sharing = await t.seedStatus('personal', {
      type: 'image',
      content: filename,
      mediaFilename: filename,
    })

    const first = await t.request(`/api/sessions/personal/delete-status/${status.id}`, { method: 'DELETE' })
    expect(first.status).toBe(200)
    expect((await body(first)).data).toMatchObject({ deletedImageFile: false })
    expect(await s3.keys()).toContain(filename)

    const last = await t.request(`/api/sessions/personal/delete-status/${sharing.id}`, { method: 'DELETE' })
    expect((await body(last)).data).toMatchObject({ deletedImageFile: true })
    expect(await s3.keys()).not.toContain(filename)
    expect(await store.exists(filename)).toBe(false)
    expect(await t.repos.uploads.get(filename)).toBeNull()
  })

  it('a session delete removes the objects of all its statuses', async () => {
    const image = await imageStatus()
    const video = await t.seedUpload('video')
    await t.seedStatus('personal', { type: 'video', content: video.filename, mediaFilename: video.filename })

    const res = await t.request('/api/sessions/personal', { method: 'DELETE' })
    expect(res.status).toBe(200)
    const keys = await s3.keys()
    expect(keys).not.toContain(image.filename)
    expect(keys).not.toContain(video.filename)
    expect(await t.repos.uploads.get(video.filename)).toBeNull()
  })

  it('expiry removes the objects of expired statuses and keeps those of live ones', async () => {
    const expired = await imageStatus({ expiresAt: now - 1 })
    const live = await imageStatus({ expiresAt: now + HOUR })

    expect(await retention().runOnce()).toBe(1)
    const keys = await s3.keys()
    expect(keys).not.toContain(expired.filename)
    expect(keys).toContain(live.filename)
    expect(await t.repos.uploads.get(expired.filename)).toBeNull()
  })

  it('the orphan sweep removes old unused uploads, presigned ones included, and keeps young and used ones', async () => {
    // Uploaded through the API (multipart), never used by a status.
    const unused = await t.seedUpload('image')
    // PUT straight to the store through a presigned link, never sent (so never verified).
    const link = await t.json('/api/uploads', 'POST', {
      type: 'image',
      contentType: 'image/png',
      size: fixtures.png.length,
    })
    const { filename: presigned, uploadUrl, headers } = (await body(link)).data
    const put = await fetch(uploadUrl, { method: 'PUT', headers, body: fixtures.png })
    expect(put.status).toBe(200)
    const used = await imageStatus({ expiresAt: now + 48 * HOUR })

    now += 3 * HOUR
    const young = `${now}-aaaaaaaaaaaaaaaa.png`
    await store.put(young, chunks(fixtures.png), { maxBytes: 1024, contentType: 'image/png' })
    await t.repos.uploads.insert({
      filename: young,
      kind: 'image',
      mime: 'image/png',
      size: 70,
      createdAt: now,
    })

    await retention().runOnce()
    const keys = await s3.keys()
    expect(keys).not.toContain(unused.filename)
    expect(keys).not.toContain(presigned)
    expect(keys).toContain(used.filename)
    expect(keys).toContain(young)
    expect(await t.repos.uploads.get(presigned)).toBeNull()
    expect(await t.repos.uploads.get(unused.filename)).toBeNull()
  })
})
