import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import {
  bytes,
  chunked,
  expectHealthy,
  expectWellFormed,
  type FuzzProduct,
  fixtures,
  MAX_UPLOAD_MB,
  mediaFiles,
  multipartBody,
  rawRequest,
  startFuzzProduct,
} from './support.js'

/**
 * Multipart bodies that once took the whole process down (an unhandled 'error' event on a parser
 * file stream: "Unexpected end of form"), sent over real sockets to the embedded product. Each must
 * get its 4xx (or, for a client that left, nothing) while the process keeps answering, and leave no
 * file or upload row behind.
 */

const BOUNDARY = 'regression-boundary-7f3a'
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`

let product: FuzzProduct
beforeAll(async () => {
  product = await startFuzzProduct()
})
afterAll(async () => {
  await product?.stop()
})

const head = (path: string, framing: { length: number } | 'chunked', extra: string[] = []) =>
  [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `x-api-key: ${product.key}`,
    `Content-Type: ${CONTENT_TYPE}`,
    framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${framing.length}`,
    'Connection: close',
    ...extra,
  ].join('\r\n')

const uploadRows = async () =>
  Number((await product.server.db.execute('SELECT COUNT(*) AS n FROM uploads')).rows[0]?.n ?? -1)

/** Sends a complete HTTP request whose multipart content is the given (possibly broken) bytes. */
const send = async (path: string, body: Uint8Array) => {
  const res = await rawRequest(product.port, { head: head(path, { length: body.byteLength }), body: [body] })
  if (!res) throw new Error(`no answer from ${path}`)
  expectWellFormed(res, path)
  return { status: res.status, error: res.status >= 400 ? JSON.parse(res.body).error : null }
}

const expectNothingLeft = async () => {
  // The consumer's cleanup runs before the answer, but an aborted request has no answer to wait for.
  await vi.waitFor(async () => expect(await mediaFiles(product)).toEqual([]))
  expect(await uploadRows()).toBe(0)
}

describe('multipart bodies that used to crash the process', () => {
  it.each(['file', 'image', 'other'])(
    'answers 400 for a truncated body whose file part is named "%s" (not read by /api/upload-video)',
    async (field) => {
      const full = multipartBody(BOUNDARY, [
        { name: field, filename: 'a.bin', type: 'application/octet-stream', content: new Uint8Array(5000) },
      ])
      for (const cut of [10, 60, 200, 3000, full.byteLength - 8]) {
        expect(await send('/api/upload-video', full.subarray(0, cut))).toEqual({
          status: 400,
          error: 'Malformed multipart body',
        })
        await expectHealthy(product)
      }
      await expectNothingLeft()
    },
  )

  it('answers 400 for a valid file followed by a truncated second file in the same field', async () => {
    for (const path of ['/api/upload-video', '/api/upload-image']) {
      const kind = path.endsWith('video') ? 'video' : 'image'
      const valid = kind === 'video' ? fixtures.mp4 : fixtures.png
      const body = multipartBody(BOUNDARY, [
        { name: kind, filename: 'first', type: 'application/octet-stream', content: valid },
        { name: kind, filename: 'second', type: 'application/octet-stream', content: new Uint8Array(4000) },
      ])
      expect(await send(path, body.subarray(0, body.byteLength - 2000))).toEqual({
        status: 400,
        error: 'Malformed multipart body',
      })
      await expectHealthy(product)
    }
    // The first file was complete and may have been stored: it is removed again with the refusal.
    await expectNothingLeft()
  })

  it.each([
    ['an unread field', 'file'],
    ['the upload field', 'video'],
  ])('survives a client that disconnects while %s streams', async (_label, field) => {
    const prefix = multipartBody(
      BOUNDARY,
      [
        { name: 'note', content: bytes('a text field first') },
        { name: field, filename: 'clip.mp4', type: 'video/mp4', content: fixtures.mp4 },
      ],
      { close: false },
    ).subarray(0, -2) // inside the file part: its CRLF and the closing boundary never come
    const filler = new Uint8Array(64 * 1024)
    for (const framing of [{ length: 900 * 1024 }, 'chunked'] as const) {
      const pieces = [prefix, filler, filler, filler]
      const res = await rawRequest(product.port, {
        head: head('/api/upload-video', framing),
        body: framing === 'chunked' ? chunked(pieces, { terminate: false }) : pieces,
        abort: true,
      })
      expect(res).toBeNull()
      await expectHealthy(product)
    }
    await expectNothingLeft()
  })

  it.each([
    ['under a field the route does not read', 'file'],
    ['under the upload field', 'video'],
  ])('answers 413 for a chunked body over the limit %s', async (_label, field) => {
    const limit = MAX_UPLOAD_MB * 1024 * 1024
    const prefix = bytes(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
    )
    const filler = new Uint8Array(128 * 1024)
    filler.set(fixtures.mp4)
    const pieces = [
      prefix,
      ...Array.from({ length: Math.ceil((limit * 1.5) / filler.byteLength) }, () => filler),
    ]
    const res = await rawRequest(product.port, {
      head: head('/api/upload-video', 'chunked'),
      body: chunked([...pieces, bytes(`\r\n--${BOUNDARY}--\r\n`)]),
    })
    // The server answers as soon as the limit is crossed and closes; a client still writing may
    // see the connection reset before it reads that answer.
    if (res) {
      expectWellFormed(res, 'chunked over the limit')
      expect(res.status).toBe(413)
      expect(JSON.parse(res.body).error).toBe(Messages.fileTooLarge)
      expect(res.headers.connection).toBe('close')
    }
    await expectHealthy(product)
    await expectNothingLeft()
  })

  it('still stores a well-formed upload after all of that', async () => {
    const body = multipartBody(BOUNDARY, [
      { name: 'video', filename: 'clip.mp4', type: 'video/mp4', content: fixtures.mp4 },
    ])
    const res = await rawRequest(product.port, {
      head: head('/api/upload-video', { length: body.byteLength }),
      body: [body],
    })
    expect(res?.status).toBe(201)
    const { filename } = JSON.parse(res?.body ?? '{}')
    expect(await mediaFiles(product)).toEqual([filename])
    expect(await uploadRows()).toBe(1)
  })
})
