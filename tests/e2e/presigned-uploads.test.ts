import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import type { SimAccount } from '../sim/accounts.js'
import { EVENTUALLY, linkByQr, MODES, type Product, startTestbed, type Testbed } from './harness.js'
import { pngImage, tinyMp4 } from './media-fixtures.js'

interface UploadLink {
  filename: string
  uploadUrl: string
  method: 'PUT'
  headers: Record<string, string>
  expiresAt: string
}

interface SendReply {
  statusId: string
  waMessageId: string
}

/**
 * Upload links, the way a client uses them: get a link from `POST /api/uploads`, PUT the file to
 * it, post a status with the filename. In split mode the link is a presigned PUT straight to the
 * store (s3rver, which checks the signature), so the store refuses another size or type and the
 * API checks the bytes when a status first uses them; embedded, the link is the API's own PUT
 * route, which checks the bytes as they arrive. Either way the contact decrypts the very bytes
 * that were PUT.
 */
describe.each(MODES)('presigned uploads (%s)', (mode) => {
  const sessionId = 'uploader'
  let bed: Testbed
  let product: Product
  let owner: SimAccount
  let contact: SimAccount

  beforeAll(async () => {
    bed = await startTestbed({ mode })
    owner = bed.sim.createAccount({ phone: '15550007001' })
    contact = bed.sim.createAccount({ phone: '15550007002', pushName: 'Dana' })
    product = await bed.startProduct()
    await linkByQr(product, bed.sim, { sessionId, phone: owner.phone })
  })

  afterAll(async () => {
    await bed?.close()
  })

  const createLink = async (input: { type: 'image' | 'video'; contentType: string; size: number }) => {
    const res = await product.api.post<UploadLink>('/api/uploads', input)
    expect(res.status).toBe(201)
    return res.data
  }

  /** The PUT a client makes: no API key, the link's headers (or others), the raw file as the body. */
  const put = (link: UploadLink, bytes: Uint8Array, headers: Record<string, string> = link.headers) =>
    fetch(link.uploadUrl, { method: link.method, headers, body: Uint8Array.from(bytes) })

  const send = (type: 'image' | 'video', filename: string) =>
    product.api.post<SendReply>(`/api/sessions/${sessionId}/send-status`, {
      type,
      content: filename,
      targetNumbers: contact.phone,
    })

  /** What the contact (and the owner's own phone) decrypted for one status. */
  const receivedBy = (waMessageId: string) =>
    vi.waitFor(() => {
      const got = [contact, owner].map((account) =>
        bed.sim.receivedStatuses(account.phone).find((s) => s.id === waMessageId),
      )
      expect(got.every(Boolean)).toBe(true)
      return got.map((status) => status!)
    }, EVENTUALLY)

  /** A link-based upload of bytes that really are what was declared, PUT successfully. */
  const uploadThroughLink = async (type: 'image' | 'video', contentType: string, bytes: Uint8Array) => {
    const link = await createLink({ type, contentType, size: bytes.length })
    expect((await put(link, bytes)).status).toBe(mode === 'split' ? 200 : 201)
    return link.filename
  }

  const verifiedFlag = async (filename: string) => {
    const row = await product.db.execute({
      sql: 'SELECT verified FROM uploads WHERE filename = ?',
      args: [filename],
    })
    return row.rows[0] ? Number(row.rows[0].verified) : null
  }

  it('takes the PUT of the declared size and type only, then posts it; the contact decrypts the same bytes', async () => {
    const png = await pngImage('presigned image status')
    const link = await createLink({ type: 'image', contentType: 'image/png', size: png.length })
    const target = new URL(link.uploadUrl)
    if (mode === 'split') {
      // Straight to the store, not through the API.
      expect(target.origin).not.toBe(product.api.baseUrl)
      expect(target.pathname).not.toMatch(/^\/api\//)
      expect(target.searchParams.get('X-Amz-SignedHeaders')).toContain('content-length')
    } else {
      expect(target.pathname).toBe(`/api/uploads/${link.filename}`)
    }

    // One byte more than declared: the signature (S3) or the size limit (the API) refuses it.
    const oversize = Buffer.concat([png, Buffer.from([0])])
    expect((await put(link, oversize)).status).toBe(mode === 'split' ? 403 : 413)
    // Another Content-Type than the link was signed for.
    expect((await put(link, png, { 'Content-Type': 'image/jpeg' })).status).toBe(mode === 'split' ? 403 : 400)
    expect(await product.mediaExists(link.filename)).toBe(false)

    expect((await put(link, png)).status).toBe(mode === 'split' ? 200 : 201)
    expect(await product.mediaExists(link.filename)).toBe(true)

    const sent = await send('image', link.filename)
    expect(sent).toMatchObject({ status: 200, data: { contactCount: 1 } })
    for (const status of await receivedBy(sent.data.waMessageId)) {
      expect(status).toMatchObject({ kind: 'image', mimetype: 'image/png' })
      expect((await bed.sim.statusMedia(status)).equals(png)).toBe(true)
    }
    // Checked by this first send (split), or by the PUT itself (embedded).
    expect(await verifiedFlag(link.filename)).toBe(1)
  })

  it('posts a video uploaded through a link; the contact decrypts the same bytes', async () => {
    const mp4 = tinyMp4(64 * 1024)
    const filename = await uploadThroughLink('video', 'video/mp4', mp4)
    const sent = await send('video', filename)
    expect(sent.status).toBe(200)
    for (const status of await receivedBy(sent.data.waMessageId)) {
      expect(status).toMatchObject({ kind: 'video', mimetype: 'video/mp4' })
      expect((await bed.sim.statusMedia(status)).equals(mp4)).toBe(true)
    }
  })

  it.each([
    [
      'PNG bytes declared as image/jpeg',
      'image/jpeg',
      Messages.uploadTypeMismatch('image/png', 'image/jpeg'),
    ],
    ['text declared as image/png', 'image/png', Messages.onlyMedia],
  ] as const)('refuses %s with 415 and never sends it', async (label, contentType, error) => {
    const bytes =
      contentType === 'image/jpeg' ? await pngImage(label) : Buffer.from(`${label}, not an image\n`)
    const link = await createLink({ type: 'image', contentType, size: bytes.length })
    const stanzasBefore = bed.sim.sentStanzas(owner.phone).length
    const stored = await put(link, bytes)

    if (mode === 'split') {
      // The store cannot tell what the bytes are: it takes them, and the first send refuses them.
      expect(stored.status).toBe(200)
      const refused = await send('image', link.filename)
      expect(refused).toMatchObject({ status: 415, error })
      expect(await product.mediaExists(link.filename)).toBe(false)
      expect(await verifiedFlag(link.filename)).toBeNull()
    } else {
      // The API's own PUT reads the bytes as they arrive and refuses them there.
      expect(stored.status).toBe(415)
      expect(((await stored.json()) as { error: string }).error).toBe(error)
      expect(await product.mediaExists(link.filename)).toBe(false)
    }
    // Gone for good, whichever refused it.
    expect(await send('image', link.filename)).toMatchObject({ status: 400, error: Messages.fileNotFound })
    expect(bed.sim.sentStanzas(owner.phone)).toHaveLength(stanzasBefore)
  })
})
