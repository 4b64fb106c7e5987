import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Messages } from '../shared/errors.js'
import { fetchUrlMedia } from './media-fetch.js'

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)

describe('fetchUrlMedia', () => {
  let server: Server
  let base: string
  let port: number
  /** Only 127.0.0.1 counts as "public" here, so 127.0.0.2 stands in for an internal host. */
  const onlyLoopbackOne = (address: string) => address === '127.0.0.1'

  beforeAll(async () => {
    server = createServer((req, res) => {
      switch (req.url) {
        case '/pic':
          res.writeHead(200, { 'content-type': 'image/png' }).end(PNG)
          return
        case '/pic.png':
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PNG)
          return
        case '/fake.jpg':
          res.writeHead(200, { 'content-type': 'image/jpeg' }).end('<html>not found</html>')
          return
        case '/page':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>')
          return
        case '/big.png':
          res
            .writeHead(200, { 'content-type': 'image/png', 'content-length': String(10_000) })
            .end(Buffer.alloc(10_000))
          return
        case '/stream.png':
          // No content-length: the cap must hold while streaming.
          res.writeHead(200, { 'content-type': 'image/png' })
          res.write(PNG)
          res.end(Buffer.alloc(10_000))
          return
        case '/to-pic':
          res.writeHead(302, { location: '/pic' }).end()
          return
        case '/to-internal':
          res.writeHead(302, { location: `http://127.0.0.2:${port}/pic` }).end()
          return
        case '/loop':
          res.writeHead(302, { location: '/loop' }).end()
          return
        case '/missing':
          res.writeHead(404).end()
          return
        default:
          res.writeHead(500).end()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
    base = `http://127.0.0.1:${port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const fetchWith = (path: string, maxBytes = 1_000) =>
    fetchUrlMedia(new URL(path, base), { maxBytes, isAllowedAddress: onlyLoopbackOne, timeoutMs: 5_000 })

  it('downloads an image and tells its kind from the bytes', async () => {
    const media = await fetchWith('/pic')
    expect(media).toMatchObject({ kind: 'image', mimetype: 'image/png' })
    expect(media.bytes?.equals(PNG)).toBe(true)
    expect((await fetchWith('/pic.png')).kind).toBe('image')
  })

  it('follows redirects to allowed hosts only', async () => {
    expect((await fetchWith('/to-pic')).kind).toBe('image')
    await expect(fetchWith('/to-internal')).rejects.toMatchObject({
      code: 'bad_request',
      message: Messages.urlNonPublic,
    })
    await expect(fetchWith('/loop')).rejects.toMatchObject({ message: Messages.mediaUrlRedirects })
  })

  it('refuses private addresses by default, by literal IP and by name resolved at connect time', async () => {
    await expect(fetchUrlMedia(new URL('/pic', base), { maxBytes: 1_000 })).rejects.toMatchObject({
      message: Messages.urlNonPublic,
    })
    await expect(
      fetchUrlMedia(new URL(`http://localhost:${port}/pic`), { maxBytes: 1_000 }),
    ).rejects.toMatchObject({
      message: Messages.urlNonPublic,
    })
  })

  it('returns no media for pages and for files that only claim to be media', async () => {
    expect(await fetchWith('/page')).toEqual({ kind: null, bytes: null, mimetype: null })
    expect(await fetchWith('/fake.jpg')).toEqual({ kind: null, bytes: null, mimetype: null })
  })

  it('caps the size from the header and while streaming', async () => {
    await expect(fetchWith('/big.png')).rejects.toMatchObject({ code: 'payload_too_large' })
    await expect(fetchWith('/stream.png')).rejects.toMatchObject({ code: 'payload_too_large' })
  })

  it('reports HTTP failures and bad schemes clearly', async () => {
    await expect(fetchWith('/missing')).rejects.toMatchObject({
      message: `${Messages.mediaUrlFailed} (HTTP 404)`,
    })
    await expect(fetchUrlMedia(new URL('ftp://example.com/a.png'), { maxBytes: 1 })).rejects.toMatchObject({
      message: Messages.mediaUrlInvalid,
    })
  })
})
