import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Messages } from '../../../shared/errors.js'
import { SAFE_MEDIA_NAME } from '../../../shared/storage/types.js'
import { body, chunks, createTestContext, fixtures, type TestContext } from '../../test-support.js'

let now = Date.now()
let t: TestContext
beforeEach(async () => {
  now = Date.now()
  // MAX_UPLOAD_MB is 1 in the fixture; the clock is ours so link expiry can be tested.
  t = await createTestContext({ clock: () => now })
})
afterEach(() => t.close())

const form = (field: string, bytes: Uint8Array<ArrayBuffer>, name: string, type: string) => {
  const data = new FormData()
  data.append('note', 'a text field before the file')
  data.append(field, new Blob([bytes], { type }), name)
  return data
}

const upload = (path: string, data: FormData, apiKey?: string | null) =>
  t.request(path, { method: 'POST', body: data, ...(apiKey === undefined ? {} : { apiKey }) })

/** A multipart body streamed lazily; `pulled()` tells how much of it the server actually read. */
const streamedMultipart = (field: string, head: Uint8Array, totalBytes: number) => {
  const boundary = 'streamboundary1234'
  const encoder = new TextEncoder()
  const preamble = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  let sent = 0
  const chunk = new Uint8Array(64 * 1024)
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) {
        controller.enqueue(preamble)
        controller.enqueue(head)
        sent += preamble.length + head.length
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

describe('POST /api/upload-image and /api/upload-video', () => {
  it('stores an image under a generated name and records it', async () => {
    const res = await upload(
      '/api/upload-image',
      form('image', fixtures.png, 'holiday photo.png', 'image/png'),
    )
    expect(res.status).toBe(201)
    const json = await body(res)
    expect(json).toMatchObject({
      success: true,
      data: { size: fixtures.png.length, mimeType: 'image/png', kind: 'image' },
    })
    expect(json.filename).toBe(json.data.filename)
    expect(json.filename).toMatch(SAFE_MEDIA_NAME)
    expect(json.filename).toMatch(/\.png$/)
    expect(await t.media.read(json.filename)).toEqual(fixtures.png)
    expect(await t.repos.uploads.get(json.filename)).toMatchObject({ kind: 'image', mime: 'image/png' })
  })

  it('stores a video, naming it after its real type', async () => {
    // The client claims a JPEG; the bytes say MP4, and the bytes win.
    const res = await upload('/api/upload-video', form('video', fixtures.mp4, 'clip.jpg', 'image/jpeg'))
    expect(res.status).toBe(201)
    const { data } = await body(res)
    expect(data).toMatchObject({ mimeType: 'video/mp4', kind: 'video' })
    expect(data.filename).toMatch(/\.mp4$/)
  })

  it('answers 415 for a text file named .jpg and for an image sent as video', async () => {
    const text = await upload('/api/upload-image', form('image', fixtures.text, 'evil.jpg', 'image/jpeg'))
    expect(text.status).toBe(415)
    expect(await body(text)).toEqual({ success: false, error: Messages.onlyMedia })
    const mismatch = await upload('/api/upload-video', form('video', fixtures.png, 'a.mp4', 'video/mp4'))
    expect(mismatch.status).toBe(415)
  })

  it('answers 400 when the file is missing, empty or not multipart', async () => {
    const wrongField = await upload('/api/upload-image', form('file', fixtures.png, 'a.png', 'image/png'))
    expect(wrongField.status).toBe(400)
    expect(await body(wrongField)).toEqual({ success: false, error: Messages.noFile })
    const empty = await upload('/api/upload-image', form('image', new Uint8Array(), 'a.png', 'image/png'))
    expect((await body(empty)).error).toBe(Messages.noFile)
    const json = await t.json('/api/upload-image', 'POST', { image: 'x' })
    expect(json.status).toBe(400)
    expect((await body(json)).error).toBe(Messages.noFile)
  })

  it('answers 413 from Content-Length alone, before reading the body', async () => {
    const big = streamedMultipart('image', fixtures.png, 60 * 1024 * 1024)
    const res = await t.request('/api/upload-image', {
      method: 'POST',
      headers: { 'content-type': big.contentType, 'content-length': String(60 * 1024 * 1024) },
      body: big.stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await body(res)).toEqual({ success: false, error: Messages.fileTooLarge })
    expect(big.pulled()).toBeLessThan(1024 * 1024)
  })

  it('answers 413 while streaming a 60 MB body without a length, reading little of it', async () => {
    const big = streamedMultipart('image', fixtures.png, 60 * 1024 * 1024)
    const res = await t.request('/api/upload-image', {
      method: 'POST',
      headers: { 'content-type': big.contentType },
      body: big.stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await body(res)).toEqual({ success: false, error: Messages.fileTooLarge })
    // The limit is 1 MB: the server stopped soon after it, far from the 60 MB on offer.
    expect(big.pulled()).toBeLessThan(4 * 1024 * 1024)
    const { readdir } = await import('node:fs/promises')
    expect(await readdir(`${t.dir}/media`).catch(() => [])).toEqual([])
  })

  it('needs the API key', async () => {
    const res = await upload('/api/upload-image', form('image', fixtures.png, 'a.png', 'image/png'), null)
    expect(res.status).toBe(401)
  })
})

const createLink = (input: unknown) => t.json('/api/uploads', 'POST', input)

/** The path and query of a signed link, for `app.request`. */
const pathOf = (url: string) => {
  const parsed = new URL(url)
  return `${parsed.pathname}${parsed.search}`
}

const put = (url: string, bytes: Uint8Array<ArrayBuffer>, contentType = 'image/png') =>
  t.request(pathOf(url), {
    method: 'PUT',
    apiKey: null,
    headers: { 'content-type': contentType },
    body: bytes,
  })

describe('POST /api/uploads + PUT to the signed link', () => {
  it('signs a link that takes one upload without the API key', async () => {
    const res = await createLink({ type: 'image', contentType: 'image/png', size: fixtures.png.length })
    expect(res.status).toBe(201)
    const { data } = await body(res)
    expect(data).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'image/png' } })
    expect(data.filename).toMatch(SAFE_MEDIA_NAME)
    expect(data.uploadUrl).toMatch(
      new RegExp(
        `^http://localhost:3000/api/uploads/${data.filename}\\?expires=\\d+&type=image%2Fpng&max=\\d+&sig=`,
      ),
    )
    expect(Date.parse(data.expiresAt)).toBe((Math.floor(now / 1000) + t.config.UPLOAD_URL_TTL_SECONDS) * 1000)
    // Recorded as declared until the bytes come; this PUT checks them and records what arrived.
    expect(await t.repos.uploads.get(data.filename)).toMatchObject({ verified: false })

    const stored = await put(data.uploadUrl, fixtures.png)
    expect(stored.status).toBe(201)
    expect(await body(stored)).toEqual({
      success: true,
      filename: data.filename,
      data: { filename: data.filename, size: fixtures.png.length, mimeType: 'image/png', kind: 'image' },
    })
    expect(await t.media.read(data.filename)).toEqual(fixtures.png)
    expect(await t.repos.uploads.get(data.filename)).toMatchObject({ mime: 'image/png', verified: true })

    const again = await put(data.uploadUrl, fixtures.png)
    expect(again.status).toBe(409)
    expect((await body(again)).error).toBe(Messages.uploadLinkUsed)

    // The upload is usable as image status content.
    await t.seedSession('personal', { state: 'open' })
    expect(
      (await t.json('/api/sessions/personal/send-status', 'POST', { type: 'image', content: data.filename }))
        .status,
    ).toBe(200)
  })

  it('refuses a tampered, expired or oversized upload, and bytes of the wrong kind', async () => {
    const { data } = await body(
      await createLink({ type: 'image', contentType: 'image/png', size: fixtures.png.length }),
    )
    const tampered = data.uploadUrl.replace(/max=\d+/, 'max=999999')
    expect((await put(tampered, fixtures.png)).status).toBe(401)
    const otherName = data.uploadUrl.replace(data.filename, '1700000000000-aaaaaaaaaaaaaaaa.png')
    expect((await put(otherName, fixtures.png)).status).toBe(401)

    const tooBig = new Uint8Array(fixtures.png.length + 10)
    tooBig.set(fixtures.png)
    const oversize = await put(data.uploadUrl, tooBig)
    expect(oversize.status).toBe(413)
    expect((await body(oversize)).error).toBe(Messages.fileTooLarge)

    const text = await put(data.uploadUrl, fixtures.text)
    expect(text.status).toBe(415)
    expect(await t.media.exists(data.filename)).toBe(false)

    const wrongHeader = await put(data.uploadUrl, fixtures.png, 'text/plain')
    expect(wrongHeader.status).toBe(400)

    now += (t.config.UPLOAD_URL_TTL_SECONDS + 1) * 1000
    const expired = await put(data.uploadUrl, fixtures.png)
    expect(expired.status).toBe(401)
    expect((await body(expired)).error).toBe(Messages.uploadLinkExpired)
  })

  it('refuses bytes of another format than the link was signed for, accepting true aliases', async () => {
    // An MP4 whose major brand is Apple's M4V: file-type reports it as video/x-m4v.
    const m4v = fixtures.mp4.slice()
    m4v.set(new TextEncoder().encode('M4V '), 8)
    const signAndPut = async (contentType: string, bytes: Uint8Array<ArrayBuffer>) => {
      const { data } = await body(await createLink({ type: 'video', contentType, size: bytes.length }))
      const res = await put(data.uploadUrl, bytes, contentType)
      return { res, filename: data.filename as string }
    }

    const webm = await signAndPut('video/webm', fixtures.mp4)
    expect(webm.res.status).toBe(415)
    expect(await body(webm.res)).toEqual({
      success: false,
      error: 'File content is video/mp4, but the upload link was signed for video/webm',
    })
    expect(await t.media.exists(webm.filename)).toBe(false)
    const mov = await signAndPut('video/quicktime', fixtures.mp4)
    expect(mov.res.status).toBe(415)
    expect((await body(mov.res)).error).toBe(
      'File content is video/mp4, but the upload link was signed for video/quicktime',
    )

    // MP4 and M4V are one container; which one file-type names depends only on the brand.
    for (const [declared, bytes, mime] of [
      ['video/mp4', fixtures.mp4, 'video/mp4'],
      ['video/mp4', m4v, 'video/x-m4v'],
      ['video/x-m4v', fixtures.mp4, 'video/mp4'],
    ] as const) {
      const { res, filename } = await signAndPut(declared, bytes)
      expect(res.status, `${declared} ← ${mime}`).toBe(201)
      expect((await body(res)).data).toMatchObject({ filename, mimeType: mime, kind: 'video' })
    }
  })

  it('answers 400 for missing query terms', async () => {
    const { data } = await body(await createLink({ type: 'image', contentType: 'image/png', size: 100 }))
    const res = await put(data.uploadUrl.replace(/&sig=[^&]+/, ''), fixtures.png)
    expect(res.status).toBe(400)
    expect((await body(res)).error).toBe('sig is required')
  })

  it.each([
    [
      { type: 'image', contentType: 'video/mp4', size: 10 },
      400,
      'contentType must be one of: image/jpeg, image/png, image/gif, image/webp, image/bmp',
    ],
    [{ type: 'gif', contentType: 'image/gif', size: 10 }, 400, 'type must be one of: image, video'],
    [{ type: 'image', contentType: 'image/png' }, 400, 'size is required'],
    [{ type: 'image', contentType: 'image/png', size: 0 }, 400, 'size must be at least 1'],
    [{ type: 'image', contentType: 'image/png', size: -5 }, 400, 'size must be at least 1'],
    [{ type: 'video', contentType: 'video/mp4', size: 2 * 1024 * 1024 }, 413, Messages.fileTooLarge],
  ])('answers an error for %j', async (input, status, error) => {
    const res = await createLink(input)
    expect(res.status).toBe(status)
    expect(await body(res)).toEqual({ success: false, error })
  })

  it('needs the API key to sign', async () => {
    const res = await t.request('/api/uploads', {
      method: 'POST',
      apiKey: null,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'image', contentType: 'image/png', size: 10 }),
    })
    expect(res.status).toBe(401)
  })
})

describe('GET /api/uploads/{filename}', () => {
  it('returns the stored bytes with the type read from them, and the API secure headers', async () => {
    const upload = await t.seedUpload('image')
    const res = await t.request(`/api/uploads/${upload.filename}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('content-length')).toBe(String(fixtures.png.byteLength))
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(fixtures.png)
  })

  it('needs the key', async () => {
    const upload = await t.seedUpload('video')
    const res = await t.request(`/api/uploads/${upload.filename}`, { apiKey: null })
    expect(res.status).toBe(401)
    expect(await body(res)).toEqual({ success: false, error: Messages.unauthorized })
  })

  it('answers 404 for a name with no upload, or a file that is gone, and 400 for a bad name', async () => {
    const missing = await t.request('/api/uploads/1730000000000-abcdefabcdef.png')
    expect(missing.status).toBe(404)
    expect(await body(missing)).toEqual({ success: false, error: 'Media file not found' })
    const upload = await t.seedUpload('image')
    await t.media.delete(upload.filename)
    expect((await t.request(`/api/uploads/${upload.filename}`)).status).toBe(404)
    const bad = await t.request('/api/uploads/..%2Fapi-key')
    expect(bad.status).toBe(400)
    expect(await body(bad)).toEqual({ success: false, error: 'filename is not a valid upload name' })
  })

  it('never serves bytes that are not media, whatever the record says', async () => {
    const filename = `${Date.now()}-deadbeefdeadbeef.png`
    await t.media.put(filename, chunks(new TextEncoder().encode('<script>alert(1)</script>')), {
      maxBytes: 1024,
      contentType: 'image/png',
    })
    await t.repos.uploads.insert({
      filename,
      kind: 'image',
      mime: 'image/png',
      size: 25,
      createdAt: Date.now(),
    })
    expect((await t.request(`/api/uploads/${filename}`)).status).toBe(404)
  })
})
