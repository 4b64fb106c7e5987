import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import type { StatusView } from '../../shared/schemas.js'
import type { SimAccount } from '../sim/accounts.js'
import {
  EVENTUALLY,
  linkByQr,
  MODES,
  noUrlMedia,
  type Product,
  startTestbed,
  type Testbed,
  type UrlMediaStandIn,
} from './harness.js'
import { pngImage, tinyMp4 } from './media-fixtures.js'

interface SendReply {
  statusId: string
  waMessageId: string
  contactCount: number
  message: string
}

/**
 * Posting every kind of status to three contacts (Alice has two devices). Each contact's simulated
 * devices decrypt what they got; the product reports the send and lists it. The views suite has the
 * LID-only contact, whose receipts name nothing but her LID.
 */
describe.each(MODES)('posting statuses (%s)', (mode) => {
  const sessionId = 'poster'
  let bed: Testbed
  let product: Product
  let owner: SimAccount
  let contacts: SimAccount[]
  let targetNumbers: string
  /** URLs the connector asked its (stand-in) URL downloader for. */
  const fetchedUrls: string[] = []
  let urlImage: Buffer

  beforeAll(async () => {
    bed = await startTestbed({ mode })
    owner = bed.sim.createAccount({ phone: '15550003001' })
    contacts = [
      bed.sim.createAccount({ phone: '15550003002', pushName: 'Alice', devices: 2 }),
      bed.sim.createAccount({ phone: '15550003003', pushName: 'Bob' }),
      bed.sim.createAccount({ phone: '15550003004', pushName: 'Carol' }),
    ]
    targetNumbers = contacts.map((c) => c.phone).join(',')
    urlImage = await pngImage('an image found at a URL')
    // The API lets only public hosts through, and tests never reach the internet: the download
    // itself is stood in for, and a `.png` URL "holds" an image.
    const fetchUrlMedia: UrlMediaStandIn = async (url) => {
      fetchedUrls.push(url.href)
      return url.pathname.endsWith('.png')
        ? { kind: 'image', bytes: urlImage, mimetype: 'image/png' }
        : noUrlMedia(url)
    }
    product = await bed.startProduct({ connector: { fetchUrlMedia } })
    await linkByQr(product, bed.sim, { sessionId, phone: owner.phone })
  })

  afterAll(async () => {
    await bed?.close()
  })

  const send = (body: Record<string, unknown>) =>
    product.api.post<SendReply>(`/api/sessions/${sessionId}/send-status`, { targetNumbers, ...body })

  /** What each contact (and the owner's own phone) decrypted for one status, once all have it. */
  const receivedBy = async (waMessageId: string) =>
    vi.waitFor(() => {
      const got = [...contacts, owner].map((account) =>
        bed.sim.receivedStatuses(account.phone).find((s) => s.id === waMessageId),
      )
      expect(got.every(Boolean)).toBe(true)
      return got.map((status) => status!)
    }, EVENTUALLY)

  const listed = async (statusId: string) => {
    const list = await product.api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`)
    expect(list.status).toBe(200)
    return list.data.find((status) => status.id === statusId)
  }

  it('posts a text status with colour and font that every device of every contact decrypts', async () => {
    const since = product.events.mark()
    const sent = await send({
      type: 'text',
      content: 'Hello from the API',
      backgroundColor: '#315575',
      font: 1,
    })
    expect(sent).toMatchObject({
      status: 200,
      data: { contactCount: 3, message: 'Status successfully sent to WhatsApp' },
    })
    const { statusId, waMessageId } = sent.data

    const received = await receivedBy(waMessageId)
    for (const status of received) {
      expect(status).toMatchObject({
        from: owner.phone,
        kind: 'text',
        text: 'Hello from the API',
        backgroundColor: '#315575',
        font: 1,
      })
    }
    // Both of Alice's devices decrypted it.
    await vi.waitFor(() => expect(received[0]!.devices).toHaveLength(2), EVENTUALLY)
    // Like WhatsApp Web, the product addresses every device of every contact by LID.
    const stanza = bed.sim.sentStanzas(owner.phone).find((s) => s.id === waMessageId)
    expect(stanza?.recipients).toEqual(
      expect.arrayContaining(contacts.flatMap((c) => [...c.simulated.keys()].map((d) => c.lidJid(d)))),
    )

    expect(await product.events.waitFor('status-sent', { sessionId, since })).toMatchObject({
      statusId,
      id: statusId,
      waMessageId,
      type: 'text',
      content: 'Hello from the API',
      contactCount: 3,
      targetNumbers,
    })
    await product.events.waitFor('statuses-updated', { sessionId, since, where: (e) => e.action === 'sent' })
    expect(await listed(statusId)).toMatchObject({
      type: 'text',
      content: 'Hello from the API',
      state: 'sent',
      error: null,
      waMessageId,
      contactCount: 3,
      targetNumbers,
      backgroundColor: '#315575',
      font: 1,
      viewerCount: 0,
    })
  })

  it('posts an uploaded image with a caption; contacts decrypt the same bytes', async () => {
    const png = await pngImage('image status')
    const filename = await product.api.upload('image', png, 'holiday.png')
    const since = product.events.mark()
    const sent = await send({ type: 'image', content: filename, caption: 'At the beach' })
    expect(sent).toMatchObject({ status: 200, data: { contactCount: 3 } })

    for (const status of await receivedBy(sent.data.waMessageId)) {
      expect(status).toMatchObject({ kind: 'image', caption: 'At the beach', mimetype: 'image/png' })
      expect((await bed.sim.statusMedia(status)).equals(png)).toBe(true)
    }
    expect(await product.events.waitFor('status-sent', { sessionId, since })).toMatchObject({
      statusId: sent.data.statusId,
      type: 'image',
      content: filename,
      caption: 'At the beach',
    })
    expect(await listed(sent.data.statusId)).toMatchObject({
      type: 'image',
      content: filename,
      state: 'sent',
    })
  })

  it('posts an uploaded MP4 video; contacts decrypt the same bytes', async () => {
    const mp4 = tinyMp4()
    const filename = await product.api.upload('video', mp4, 'clip.mp4')
    expect(filename).toMatch(/\.mp4$/)
    const since = product.events.mark()
    const sent = await send({ type: 'video', content: filename, caption: 'Short clip' })
    expect(sent).toMatchObject({ status: 200, data: { contactCount: 3 } })

    for (const status of await receivedBy(sent.data.waMessageId)) {
      expect(status).toMatchObject({ kind: 'video', caption: 'Short clip', mimetype: 'video/mp4' })
      expect((await bed.sim.statusMedia(status)).equals(mp4)).toBe(true)
    }
    expect(await product.events.waitFor('status-sent', { sessionId, since })).toMatchObject({
      statusId: sent.data.statusId,
      type: 'video',
    })
    expect(await listed(sent.data.statusId)).toMatchObject({ type: 'video', state: 'sent' })
  })

  it('posts a URL that holds no media as a text status with the caption', async () => {
    const url = 'https://93.184.215.14/news/today'
    const sent = await send({ type: 'url', content: url, caption: 'Read this' })
    expect(sent).toMatchObject({ status: 200, data: { contactCount: 3 } })
    expect(fetchedUrls).toContain(url)
    for (const status of await receivedBy(sent.data.waMessageId)) {
      expect(status).toMatchObject({ kind: 'text', text: `Read this\n${url}` })
    }
    expect(await listed(sent.data.statusId)).toMatchObject({ type: 'url', content: url, state: 'sent' })
  })

  it('posts the image a URL holds as an image status', async () => {
    const url = 'https://93.184.215.14/pictures/sunset.png'
    const sent = await send({ type: 'url', content: url, caption: 'Sunset' })
    expect(sent.status).toBe(200)
    for (const status of await receivedBy(sent.data.waMessageId)) {
      expect(status).toMatchObject({ kind: 'image', caption: 'Sunset' })
      expect((await bed.sim.statusMedia(status)).equals(urlImage)).toBe(true)
    }
  })

  it.each([
    ['loopback', 'http://127.0.0.1:8080/pic.png'],
    ['a private address', 'http://10.1.2.3/pic.png'],
    ['link-local metadata', 'http://169.254.169.254/latest/meta-data'],
    ['localhost', 'http://localhost/pic.png'],
  ])('refuses a URL status pointing at %s, and sends nothing', async (_, url) => {
    const since = product.events.mark()
    const fetchesBefore = fetchedUrls.length
    const stanzasBefore = bed.sim.sentStanzas(owner.phone).length
    const refused = await send({ type: 'url', content: url })
    expect(refused).toMatchObject({ status: 400, error: Messages.urlNonPublic })
    expect(fetchedUrls).toHaveLength(fetchesBefore)
    expect(bed.sim.sentStanzas(owner.phone)).toHaveLength(stanzasBefore)
    // By content: in split mode an earlier test's event may still be on its way through Redis.
    expect(product.events.of('status-sent', { since, where: (e) => e.content === url })).toEqual([])
  })
})
