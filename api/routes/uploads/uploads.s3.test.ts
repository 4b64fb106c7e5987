import { randomBytes } from 'node:crypto'
import { S3Client } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../../shared/errors.js'
import { S3MediaStore } from '../../../shared/storage/s3.js'
import { SAFE_MEDIA_NAME } from '../../../shared/storage/types.js'
import { S3TestServer } from '../../../tests/support/s3-server.js'
import { body, chunks, createTestContext, fixtures, type TestContext } from '../../test-support.js'

/**
 * Uploads with the media in S3 (a real S3 API, s3rver, which checks SigV4 signatures): presigned
 * links that go straight to the store, the check of those bytes on first use, and multipart
 * uploads streamed through the API in parts.
 */

const MiB = 1024 * 1024

let s3: S3TestServer
const stores: S3MediaStore[] = []
let t: TestContext

beforeAll(async () => {
  s3 = await S3TestServer.start()
})
afterAll(async () => {
  await s3?.close()
})
afterEach(async () => {
  vi.restoreAllMocks()
  await t?.close()
  for (const store of stores.splice(0)) store.close()
})

const newStore = () => {
  const store = new S3MediaStore({
    endpoint: s3.endpoint,
    region: S3TestServer.region,
    bucket: s3.bucket,
    accessKeyId: S3TestServer.accessKeyId,
    secretAccessKey: S3TestServer.secretAccessKey,
    forcePathStyle: true,
  })
  stores.push(store)
  return store
}

/** The API over an S3 store; MAX_UPLOAD_MB is 1 unless the test says otherwise. */
const start = async (env: Record<string, string> = {}) => {
  t = await createTestContext({ media: newStore(), env })
  return t
}

interface Link {
  filename: string
  uploadUrl: string
  method: 'PUT'
  headers: Record<string, string>
  expiresAt: string
}

const createLink = async (input: { type: 'image' | 'video'; contentType: string; size: number }) => {
  const res = await t.json('/api/uploads', 'POST', input)
  expect(res.status).toBe(201)
  return (await body(res)).data as Link
}

/** A PUT straight to the store, as a client does with the link (no API key, the link's headers). */
const putToStore = (link: Link, bytes: Uint8Array, headers: Record<string, string> = link.headers) =>
  fetch(link.uploadUrl, { method: 'PUT', headers, body: Uint8Array.from(bytes) })

const send = (filename: string, type: 'image' | 'video' = 'image', sessionId = 'personal') =>
  t.json(`/api/sessions/${sessionId}/send-status`, 'POST', { type, content: filename })

/** An upload of `bytes` through a presigned link, signed for `contentType`, PUT as the client would. */
const uploadThroughLink = async (type: 'image' | 'video', contentType: string, bytes: Uint8Array) => {
  const link = await createLink({ type, contentType, size: bytes.byteLength })
  const put = await putToStore(link, bytes)
  expect(put.status).toBe(200)
  return link.filename
}

describe('POST /api/uploads with an S3 store', () => {
  it('returns a presigned PUT to the store, signed for the type and exact size, and records it unverified', async () => {
    await start()
    const link = await createLink({ type: 'image', contentType: 'image/png', size: fixtures.png.length })
    expect(link).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'image/png' } })
    expect(link.filename).toMatch(SAFE_MEDIA_NAME)
    const url = new URL(link.uploadUrl)
    expect(`${url.origin}${url.pathname}`).toBe(`${s3.endpoint}/${s3.bucket}/${link.filename}`)
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
      expect.arrayContaining(['content-length', 'content-type', 'host']),
    )
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(t.config.UPLOAD_URL_TTL_SECONDS))
    expect(Date.parse(link.expiresAt)).toBeGreaterThan(Date.now())
    expect(await t.repos.uploads.get(link.filename)).toMatchObject({
      kind: 'image',
      mime: 'image/png',
      size: fixtures.png.length,
      verified: false,
    })
    // Nothing is in the store until the client PUTs.
    expect(await t.media.exists(link.filename)).toBe(false)
  })

  it('lets the store refuse a PUT of another size or type than signed, and take the exact one', async () => {
    await start()
    const link = await createLink({ type: 'image', contentType: 'image/png', size: fixtures.png.length })
    const longer = new Uint8Array(fixtures.png.length + 1)
    longer.set(fixtures.png)
    expect((await putToStore(link, longer)).status).toBe(403)
    expect((await putToStore(link, fixtures.png.subarray(1))).status).toBe(403)
    expect((await putToStore(link, fixtures.png, { 'Content-Type': 'image/jpeg' })).status).toBe(403)
    expect(await t.media.exists(link.filename)).toBe(false)

    expect((await putToStore(link, fixtures.png)).status).toBe(200)
    expect(await t.media.read(link.filename)).toEqual(fixtures.png)
  })

  it('refuses sizes over MAX_UPLOAD_MB before signing anything', async () => {
    await start()
    const res = await t.json('/api/uploads', 'POST', {
      type: 'video',
      contentType: 'video/mp4',
      size: 2 * MiB,
    })
    expect(res.status).toBe(413)
    expect(await body(res)).toEqual({ success: false, error: Messages.fileTooLarge })
  })
})

describe('sending a status with a presigned upload: the bytes are checked on first use', () => {
  it('verifies a good file once, records its real type and size, and sends it', async () => {
    await start()
    await t.seedSession('personal', { state: 'open' })
    const filename = await uploadThroughLink('image', 'image/png', fixtures.png)
    const readHead = vi.spyOn(t.media, 'readHead')

    const first = await send(filename)
    expect(first.status).toBe(200)
    expect(await t.repos.uploads.get(filename)).toMatchObject({
      mime: 'image/png',
      size: fixtures.png.length,
      verified: true,
    })
    expect(t.connector.commandsNamed('status.send').map((c) => c.input.content)).toEqual([filename])

    // Verified once is enough: the next send does not read the file again.
    expect((await send(filename)).status).toBe(200)
    expect(readHead).toHaveBeenCalledTimes(1)
  })

  it('accepts a true alias of the declared format (an M4V-branded MP4 signed as video/mp4)', async () => {
    await start()
    await t.seedSession('personal', { state: 'open' })
    const m4v = fixtures.mp4.slice()
    m4v.set(new TextEncoder().encode('M4V '), 8)
    const filename = await uploadThroughLink('video', 'video/mp4', m4v)
    expect((await send(filename, 'video')).status).toBe(200)
    expect(await t.repos.uploads.get(filename)).toMatchObject({ mime: 'video/x-m4v', verified: true })
  })

  it('answers 400 while the file is not in the store yet, and sends it once it is', async () => {
    await start()
    await t.seedSession('personal', { state: 'open' })
    const link = await createLink({ type: 'image', contentType: 'image/png', size: fixtures.png.length })
    const early = await send(link.filename)
    expect(early.status).toBe(400)
    expect(await body(early)).toEqual({ success: false, error: Messages.fileNotFound })
    expect(await t.repos.uploads.get(link.filename)).toMatchObject({ verified: false })

    expect((await putToStore(link, fixtures.png)).status).toBe(200)
    expect((await send(link.filename)).status).toBe(200)
  })

  it.each([
    [
      'PNG bytes declared as image/jpeg',
      'image',
      'image/jpeg',
      fixtures.png,
      Messages.uploadTypeMismatch('image/png', 'image/jpeg'),
    ],
    ['text declared as image/png', 'image', 'image/png', fixtures.text, Messages.onlyMedia],
    [
      'MP4 bytes declared as video/webm',
      'video',
      'video/webm',
      fixtures.mp4,
      Messages.uploadTypeMismatch('video/mp4', 'video/webm'),
    ],
    ['a PNG declared as a video', 'video', 'video/mp4', fixtures.png, Messages.onlyMedia],
  ] as const)(
    'refuses %s with 415 and removes object and record',
    async (_, kind, declared, bytes, error) => {
      await start()
      await t.seedSession('personal', { state: 'open' })
      const filename = await uploadThroughLink(kind, declared, bytes)

      const refused = await send(filename, kind)
      expect(refused.status).toBe(415)
      expect(await body(refused)).toEqual({ success: false, error })
      expect(await t.media.exists(filename)).toBe(false)
      expect(await s3.keys()).not.toContain(filename)
      expect(await t.repos.uploads.get(filename)).toBeNull()
      expect(t.connector.commandsNamed('status.send')).toEqual([])

      // It can never be used: the next send finds nothing.
      const again = await send(filename, kind)
      expect(again.status).toBe(400)
      expect((await body(again)).error).toBe(Messages.fileNotFound)
    },
  )

  it('checks the bytes before the session state: 415 even when the session is not connected', async () => {
    await start()
    await t.seedSession('personal', { state: 'closed' })
    const filename = await uploadThroughLink('image', 'image/jpeg', fixtures.png)
    expect((await send(filename)).status).toBe(415)
    expect(await t.media.exists(filename)).toBe(false)

    // A good file on a closed session is the usual 409, and stays verified for a later send.
    const good = await uploadThroughLink('image', 'image/png', fixtures.png)
    const closed = await send(good)
    expect(closed.status).toBe(409)
    expect((await body(closed)).error).toBe(Messages.notConnected)
    expect(await t.repos.uploads.get(good)).toMatchObject({ verified: true })
  })

  it('refuses a stored file larger than MAX_UPLOAD_MB or than it was signed for with 413, and removes it', async () => {
    await start()
    await t.seedSession('personal', { state: 'open' })
    // The store's signature keeps sizes exact; a file can still outgrow its record when it was
    // written by other means, or MAX_UPLOAD_MB was lowered after the link was signed.
    const bytes = new Uint8Array(fixtures.png.length + 100)
    bytes.set(fixtures.png)
    const filename = `${Date.now()}-0123456789abcdef.png`
    await t.media.put(filename, chunks(bytes), { maxBytes: bytes.length, contentType: 'image/png' })
    await t.repos.uploads.insert({
      filename,
      kind: 'image',
      mime: 'image/png',
      size: fixtures.png.length,
      createdAt: Date.now(),
      verified: false,
    })
    const refused = await send(filename)
    expect(refused.status).toBe(413)
    expect(await body(refused)).toEqual({ success: false, error: Messages.fileTooLarge })
    expect(await t.media.exists(filename)).toBe(false)
    expect(await t.repos.uploads.get(filename)).toBeNull()
  })

  it('lets sends racing on one unverified upload all succeed when the file is good', async () => {
    await start()
    await t.seedSession('personal', { state: 'open' })
    const filename = await uploadThroughLink('image', 'image/png', fixtures.png)
    const results = await Promise.all(Array.from({ length: 4 }, () => send(filename)))
    expect(results.map((res) => res.status)).toEqual([200, 200, 200, 200])
    expect(await t.repos.uploads.get(filename)).toMatchObject({ verified: true })
    expect(await t.media.exists(filename)).toBe(true)
  })

  it('lets sends racing on one bad upload all be refused, none sent, the file removed once', async () => {
    await start()
    await t.seedSession('personal', { state: 'open' })
    const filename = await uploadThroughLink('image', 'image/jpeg', fixtures.png)
    const deletes = vi.spyOn(t.media, 'delete')
    const results = await Promise.all(Array.from({ length: 4 }, () => send(filename)))
    // Each refused: 415 for those that read the bytes, 400 for one that came after the removal.
    for (const res of results) expect([400, 415]).toContain(res.status)
    expect(results.some((res) => res.status === 415)).toBe(true)
    expect(deletes).toHaveBeenCalledTimes(1)
    expect(t.connector.commandsNamed('status.send')).toEqual([])
    expect(await t.media.exists(filename)).toBe(false)
    expect(await t.repos.uploads.get(filename)).toBeNull()
  })
})

/** `count` bytes that `file-type` reads as MP4, random after the head, so a wrong byte shows. */
const bigMp4 = (count: number) => {
  const bytes = randomBytes(count)
  bytes.set(fixtures.mp4)
  return bytes
}

/** What the S3 client sent, by command name, with each UploadPart's size. */
const recordS3Commands = () => {
  const names: string[] = []
  const partSizes: number[] = []
  const send = S3Client.prototype.send
  vi.spyOn(S3Client.prototype, 'send').mockImplementation(function (this: S3Client, ...args: unknown[]) {
    const command = args[0] as { constructor: { name: string }; input: { Body?: { byteLength?: number } } }
    names.push(command.constructor.name)
    if (command.constructor.name === 'UploadPartCommand') partSizes.push(command.input.Body?.byteLength ?? -1)
    return (send as (...a: unknown[]) => Promise<unknown>).apply(this, args)
  } as S3Client['send'])
  return { names, partSizes }
}

/** A multipart body made lazily in 64 KiB chunks; `pulled()` tells how much the server read. */
const lazyMultipart = (field: string, head: Uint8Array, totalBytes: number) => {
  const boundary = 'lazyboundary5678'
  const encoder = new TextEncoder()
  let sent = 0
  const chunk = randomBytes(64 * 1024)
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) {
        controller.enqueue(
          encoder.encode(
            `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
          ),
        )
        controller.enqueue(head)
        sent += head.length
      } else if (sent < totalBytes) {
        controller.enqueue(chunk)
        sent += chunk.length
      } else {
        controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`))
        controller.close()
      }
    },
  })
  return { stream, contentType: `multipart/form-data; boundary=${boundary}`, pulled: () => sent }
}

describe('multipart uploads through the API into S3', () => {
  it('streams a 12 MiB video to the store in 5 MiB parts and reads it back byte-identical', async () => {
    await start({ MAX_UPLOAD_MB: '16' })
    const video = bigMp4(12 * MiB)
    const sent = recordS3Commands()
    const form = new FormData()
    form.append('video', new Blob([video], { type: 'video/mp4' }), 'long clip.mp4')
    const res = await t.request('/api/upload-video', { method: 'POST', body: form })
    expect(res.status).toBe(201)
    const { data } = await body(res)
    expect(data).toMatchObject({ size: video.length, mimeType: 'video/mp4', kind: 'video' })

    // A real multipart upload, one bounded part at a time: 5 + 5 + 2 MiB, never the whole file.
    expect(sent.names).toContain('CreateMultipartUploadCommand')
    expect(sent.names).toContain('CompleteMultipartUploadCommand')
    expect(sent.partSizes).toEqual([5 * MiB, 5 * MiB, 2 * MiB])

    expect(await t.media.size(data.filename)).toBe(video.length)
    const stored = await t.media.read(data.filename)
    expect(stored && Buffer.from(stored).equals(video)).toBe(true)
    // Through the API, the bytes were checked as they came: usable at once.
    expect(await t.repos.uploads.get(data.filename)).toMatchObject({ size: video.length, verified: true })
  })

  it('answers 413 past MAX_UPLOAD_MB while streaming, reads little more, and leaves no object', async () => {
    await start({ MAX_UPLOAD_MB: '8' })
    const before = await s3.keys()
    const sent = recordS3Commands()
    const big = lazyMultipart('video', fixtures.mp4, 40 * MiB)
    const res = await t.request('/api/upload-video', {
      method: 'POST',
      headers: { 'content-type': big.contentType },
      body: big.stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await body(res)).toEqual({ success: false, error: Messages.fileTooLarge })
    // Stopped near the limit (8 MiB plus what the parser and one part buffer hold), far from 40.
    expect(big.pulled()).toBeLessThan(14 * MiB)
    // The first part had gone up already; the failed upload is aborted rather than completed.
    expect(sent.names).toContain('AbortMultipartUploadCommand')
    expect(sent.names).not.toContain('CompleteMultipartUploadCommand')
    expect(await s3.keys()).toEqual(before)
    const uploads = await t.client.execute('SELECT COUNT(*) AS n FROM uploads')
    expect(Number(uploads.rows[0]?.n)).toBe(0)
  })
})
