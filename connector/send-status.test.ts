import { afterEach, describe, expect, it, vi } from 'vitest'
import { AppError, Messages } from '../shared/errors.js'
import type { FakeWaSocket } from '../tests/support/fake-wa-socket.js'
import { createHarness, type Harness, type HarnessOptions } from './test-harness.js'

let h: Harness
afterEach(async () => {
  await h?.cleanup()
})

const OWN = '15550001111'
const OWN_LID = '99887766'

/** A harness with one linked, open session. */
const openSession = async (options: HarnessOptions = {}) => {
  h = await createHarness(options)
  const session = await h.addSession({ phoneNumber: OWN })
  const { second: sock } = await h.linkAndOpen(session.id, { number: OWN, lid: OWN_LID })
  return { sessionId: session.id, sock }
}

/** Waits for the stanza to go out and returns the message id the connector chose. */
const sentId = async (sock: FakeWaSocket, index = 0): Promise<string> => {
  await vi.waitFor(() => expect(sock.sent.length).toBeGreaterThan(index))
  const id = sock.sent[index]?.options?.messageId
  if (!id) throw new Error('no message id')
  return id
}

const send = (sessionId: string, input: Record<string, unknown>) =>
  h.bus.send(sessionId, 'status.send', {
    sessionId,
    type: 'text',
    content: 'Hello',
    targetNumbers: [],
    ...input,
  })

describe('sending a status', () => {
  it('answers 409 when the session is not connected', async () => {
    h = await createHarness()
    const session = await h.addSession()
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    await expect(send(session.id, {})).rejects.toEqual(new AppError('conflict', Messages.notConnected))
  })

  it('waits for the server ack before reporting sent', async () => {
    const { sessionId, sock } = await openSession()
    let settled = false
    const reply = send(sessionId, { targetNumbers: ['15550002222', '15550003333'] }).finally(() => {
      settled = true
    })
    const id = await sentId(sock)

    const [pending] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(pending).toMatchObject({ state: 'pending', waMessageId: id })
    expect(settled).toBe(false)
    expect(h.eventsOf('status-sent')).toHaveLength(0)

    sock.ack(id)
    await expect(reply).resolves.toEqual({
      statusId: pending?.id,
      waMessageId: id,
      contactCount: 2,
      type: 'text',
    })
    expect(await h.repos.statuses.get(sessionId, pending?.id ?? '')).toMatchObject({
      state: 'sent',
      contactCount: 2,
      targetNumbers: '15550002222,15550003333',
    })
    expect(h.eventsOf('status-sent', sessionId)).toEqual([
      expect.objectContaining({ id: pending?.id, statusId: pending?.id, waMessageId: id, contactCount: 2 }),
    ])
    expect(h.eventsOf('statuses-updated', sessionId)).toEqual([
      { sessionId, message: 'Statuses updated', action: 'sent' },
    ])
  })

  it('always includes the own JID, alone when there are no targets, and passes text options', async () => {
    const { sessionId, sock } = await openSession()
    const first = send(sessionId, { content: 'Hi https://example.com', backgroundColor: '#315575', font: 2 })
    sock.ack(await sentId(sock, 0))
    await first
    const second = send(sessionId, { targetNumbers: ['15550002222'] })
    sock.ack(await sentId(sock, 1))
    await second

    const [alone, withTarget] = sock.sent
    expect(alone?.jid).toBe('status@broadcast')
    expect(alone?.content).toEqual({ text: 'Hi https://example.com', linkPreview: null })
    expect(alone?.options).toMatchObject({
      statusJidList: [`${OWN}@s.whatsapp.net`],
      backgroundColor: '#315575',
      font: 2,
    })
    expect(withTarget?.options?.statusJidList).toEqual([
      `${OWN}@s.whatsapp.net`,
      '15550002222@s.whatsapp.net',
    ])
  })

  it('addresses recipients by LID when the server knows their LIDs, and stores the pairs', async () => {
    const { sessionId, sock } = await openSession()
    h.wa.lidMapping.lidByNumber.set('15550002222', '111')
    h.wa.lidMapping.lidByNumber.set('15550003333', '222')
    const reply = send(sessionId, { targetNumbers: ['15550002222', '15550003333', '15550004444'] })
    sock.ack(await sentId(sock))
    await expect(reply).resolves.toMatchObject({ contactCount: 3 })

    expect(sock.sent[0]?.options?.statusJidList).toEqual([
      `${OWN_LID}@lid`,
      '111@lid',
      '222@lid',
      '15550004444@s.whatsapp.net',
    ])
    const stored = await h.repos.lidMap.getPnForLids(sessionId, ['111@lid', '222@lid'])
    expect(Object.fromEntries(stored)).toEqual({ '111@lid': '15550002222', '222@lid': '15550003333' })
  })

  it('still sends by phone JID when the LID lookup fails', async () => {
    const { sessionId, sock } = await openSession()
    h.wa.lidMapping.failLookups = true
    const reply = send(sessionId, { targetNumbers: ['15550002222'] })
    sock.ack(await sentId(sock))
    await reply
    expect(sock.sent[0]?.options?.statusJidList).toEqual([
      `${OWN}@s.whatsapp.net`,
      '15550002222@s.whatsapp.net',
    ])
  })

  it('fails with the server error code when the ack refuses the status', async () => {
    const { sessionId, sock } = await openSession()
    const reply = send(sessionId, {})
    sock.ack(await sentId(sock), '479')
    await expect(reply).rejects.toEqual(
      new AppError('unavailable', 'WhatsApp rejected the status (error 479)'),
    )
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(row).toMatchObject({ state: 'failed', error: 'WhatsApp rejected the status (error 479)' })
    expect(h.eventsOf('status-sent')).toHaveLength(0)
  })

  it('fails when Baileys reports the refusal as a message update', async () => {
    const { sessionId, sock } = await openSession()
    const reply = send(sessionId, {})
    const id = await sentId(sock)
    sock.ev.emit('messages.update', [
      {
        key: { remoteJid: 'status@broadcast', id, fromMe: true },
        update: { status: 0, messageStubParameters: ['463'] },
      },
    ])
    await expect(reply).rejects.toEqual(
      new AppError('unavailable', 'WhatsApp rejected the status (error 463)'),
    )
  })

  it('fails with a timeout when no ack arrives in time', async () => {
    const { sessionId, sock } = await openSession({ env: { STATUS_ACK_TIMEOUT_MS: '150' } })
    const reply = send(sessionId, {})
    await sentId(sock)
    await expect(reply).rejects.toEqual(new AppError('timeout', 'No acknowledgement from WhatsApp in time'))
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(row?.state).toBe('failed')
  })

  it('fails when Baileys cannot send at all', async () => {
    const { sessionId, sock } = await openSession()
    sock.sendError = new Error('All encryptions failed')
    await expect(send(sessionId, {})).rejects.toMatchObject({ code: 'unavailable' })
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(row?.state).toBe('failed')
  })

  it('sends an uploaded image as a buffer with its caption, and 404s a missing upload', async () => {
    const { sessionId, sock } = await openSession()
    const name = '1730000000000-abcdef12.jpg'
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])
    await h.media.put(
      name,
      (async function* () {
        yield bytes
      })(),
      { maxBytes: 1000, contentType: 'image/jpeg' },
    )

    const reply = send(sessionId, { type: 'image', content: name, caption: 'sunset' })
    sock.ack(await sentId(sock))
    await reply
    const content = sock.sent[0]?.content as { image: Buffer; caption: string }
    expect(Buffer.compare(content.image, Buffer.from(bytes))).toBe(0)
    expect(content.caption).toBe('sunset')
    // Text-only options are not attached to media.
    expect(sock.sent[0]?.options?.backgroundColor).toBeUndefined()
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(row?.mediaFilename).toBe(name)

    await expect(send(sessionId, { type: 'video', content: '1730000000000-missing1.mp4' })).rejects.toEqual(
      new AppError('not_found', Messages.fileNotFound),
    )
  })

  it('sends URL media as downloaded bytes, and a URL of unknown kind as text', async () => {
    const { sessionId, sock } = await openSession()
    const video = send(sessionId, {
      type: 'url',
      content: 'https://cdn.example.com/clip.MP4?x=1',
      caption: 'c',
    })
    sock.ack(await sentId(sock, 0))
    await video
    const page = send(sessionId, { type: 'url', content: 'https://example.com/page', caption: 'look' })
    sock.ack(await sentId(sock, 1))
    await page

    expect(sock.sent[0]?.content).toEqual({
      video: Buffer.from('bytes of /clip.MP4'),
      caption: 'c',
      mimetype: undefined,
    })
    expect(sock.sent[1]?.content).toEqual({ text: 'look\nhttps://example.com/page', linkPreview: null })
    await expect(send(sessionId, { type: 'url', content: 'file:///etc/passwd' })).rejects.toMatchObject({
      code: 'bad_request',
    })
  })

  it('sends once for a redelivered command', async () => {
    const { sessionId, sock } = await openSession()
    const envelope = {
      id: 'send-1',
      name: 'status.send' as const,
      input: { sessionId, type: 'text' as const, content: 'once', targetNumbers: [] },
      deadline: Date.now() + 10_000,
    }
    const first = h.connector.sessions.handle(envelope)
    sock.ack(await sentId(sock))
    const again = h.connector.sessions.handle(envelope)
    expect(await again).toEqual(await first)
    expect(sock.sent).toHaveLength(1)
  })
})
