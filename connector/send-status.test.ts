import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { AppError, Messages } from '../shared/errors.js'
import type { FakeWaSocket } from '../tests/support/fake-wa-socket.js'
import { Connector } from './connector.js'
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

  it('answers 504 when no ack arrives in time, keeps the status pending, and fails it at the final bound', async () => {
    const { sessionId, sock } = await openSession({
      env: {
        STATUS_ACK_TIMEOUT_MS: '150',
        STATUS_PREPARE_TIMEOUT_MS: '150',
        STATUS_ACK_FINAL_TIMEOUT_MS: '600',
      },
    })
    const reply = send(sessionId, {})
    await sentId(sock)
    await expect(reply).rejects.toEqual(new AppError('timeout', 'No acknowledgement from WhatsApp in time'))
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(row).toMatchObject({
      state: 'pending',
      error: 'No acknowledgement from WhatsApp in time; a late acknowledgement can still mark it sent',
    })
    await vi.waitFor(async () =>
      expect(await h.repos.statuses.get(sessionId, row?.id ?? '')).toMatchObject({
        state: 'failed',
        error: 'No acknowledgement from WhatsApp in time',
      }),
    )
    expect(h.eventsOf('status-sent')).toHaveLength(0)
  })

  it('fails when Baileys cannot send at all', async () => {
    const { sessionId, sock } = await openSession()
    sock.sendError = new Error('All encryptions failed')
    await expect(send(sessionId, {})).rejects.toMatchObject({ code: 'unavailable' })
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(row?.state).toBe('failed')
  })

  it('streams an uploaded image from the store with its caption, and refuses a missing upload', async () => {
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
    const content = sock.sent[0]?.content as {
      image: { stream: AsyncIterable<Uint8Array> }
      caption: string
      mimetype: string
    }
    const streamed: Buffer[] = []
    for await (const chunk of content.image.stream) streamed.push(Buffer.from(chunk))
    expect(Buffer.compare(Buffer.concat(streamed), Buffer.from(bytes))).toBe(0)
    expect(content.mimetype).toBe('image/jpeg')
    expect(content.caption).toBe('sunset')
    // Text-only options are not attached to media.
    expect(sock.sent[0]?.options?.backgroundColor).toBeUndefined()
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    expect(row?.mediaFilename).toBe(name)

    await expect(send(sessionId, { type: 'video', content: '1730000000000-missing1.mp4' })).rejects.toEqual(
      new AppError('bad_request', Messages.fileNotFound),
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

  it('answers a redelivery on another connector from the command log, without sending again', async () => {
    const { sessionId, sock } = await openSession()
    const envelope = {
      id: 'send-durable',
      name: 'status.send' as const,
      input: { sessionId, type: 'text' as const, content: 'only once', targetNumbers: [] },
      deadline: Date.now() + 10_000,
    }
    const first = h.connector.sessions.handle(envelope)
    sock.ack(await sentId(sock))
    const reply = await first
    // A connector that took the session over knows nothing in memory: only the database.
    const successor = new Connector({
      config: h.config,
      db: h.db.client,
      repos: h.repos,
      events: h.bus,
      media: h.media,
      logger: pino({ level: 'silent' }),
      socketFactory: h.wa.factory,
    })
    expect(await successor.sessions.handle(envelope)).toEqual(reply)
    expect(h.wa.sockets.flatMap((s) => s.sent)).toHaveLength(1)
  })

  it('does not run a send another connector started and never finished', async () => {
    const { sessionId, sock } = await openSession()
    await h.repos.commandLog.begin({
      id: 'send-orphan',
      sessionId,
      name: 'status.send',
      createdAt: Date.now(),
    })
    await expect(
      h.connector.sessions.handle({
        id: 'send-orphan',
        name: 'status.send',
        input: { sessionId, type: 'text', content: 'maybe posted already', targetNumbers: [] },
        deadline: Date.now() + 10_000,
      }),
    ).rejects.toEqual(new AppError('unavailable', Messages.commandInterrupted))
    expect(sock.sent).toHaveLength(0)
  })
})

describe('slow and late acknowledgements', () => {
  const rowOf = async (sessionId: string) => {
    const [row] = await h.repos.statuses.listActive(sessionId, Date.now())
    if (!row) throw new Error('no status stored')
    return row
  }

  /** A gate the test opens when it wants the fake socket to go on. */
  const gate = () => {
    let open: () => void = () => {}
    const promise = new Promise<void>((resolve) => {
      open = resolve
    })
    return { promise, open }
  }

  it('does not count a slow preparation against the ack timeout', async () => {
    const { sessionId, sock } = await openSession({ env: { STATUS_ACK_TIMEOUT_MS: '200' } })
    // Device queries, key fetches and encryption that take four ack timeouts.
    sock.prepareGate = new Promise((resolve) => setTimeout(resolve, 800))
    const reply = send(sessionId, { targetNumbers: ['15550002222'] })
    sock.ack(await sentId(sock))
    await expect(reply).resolves.toMatchObject({ contactCount: 1 })
    expect(await rowOf(sessionId)).toMatchObject({ state: 'sent', error: null })
  })

  it('counts an ack that arrives before sendMessage resolves', async () => {
    const { sessionId, sock } = await openSession({ env: { STATUS_ACK_TIMEOUT_MS: '150' } })
    const commit = gate()
    sock.commitGate = commit.promise
    const reply = send(sessionId, {})
    sock.ack(await sentId(sock))
    commit.open()
    await expect(reply).resolves.toMatchObject({ type: 'text' })
    expect((await rowOf(sessionId)).state).toBe('sent')
  })

  it('marks a status sent, with its events, when the ack comes after the 504', async () => {
    const { sessionId, sock } = await openSession({ env: { STATUS_ACK_TIMEOUT_MS: '150' } })
    const reply = send(sessionId, { targetNumbers: ['15550002222'] })
    const id = await sentId(sock)
    await expect(reply).rejects.toMatchObject({ code: 'timeout' })
    const row = await rowOf(sessionId)
    expect(row.state).toBe('pending')
    expect(h.eventsOf('status-sent')).toHaveLength(0)

    sock.ack(id)
    await vi.waitFor(() => expect(h.eventsOf('status-sent', sessionId)).toHaveLength(1))
    expect(h.eventsOf('status-sent', sessionId)[0]).toMatchObject({
      statusId: row.id,
      waMessageId: id,
      contactCount: 1,
    })
    expect(h.eventsOf('statuses-updated', sessionId)).toEqual([
      { sessionId, message: 'Statuses updated', action: 'sent' },
    ])
    expect(await rowOf(sessionId)).toMatchObject({ state: 'sent', error: null, contactCount: 1 })
  })

  it('fails a late status on an error ack or when its socket closes', async () => {
    const { sessionId, sock } = await openSession({ env: { STATUS_ACK_TIMEOUT_MS: '150' } })
    const refused = send(sessionId, { content: 'refused' })
    const refusedId = await sentId(sock, 0)
    await expect(refused).rejects.toMatchObject({ code: 'timeout' })
    const orphaned = send(sessionId, { content: 'orphaned' })
    await sentId(sock, 1)
    await expect(orphaned).rejects.toMatchObject({ code: 'timeout' })

    sock.ack(refusedId, '463')
    const byContent = async (content: string) =>
      (await h.repos.statuses.listActive(sessionId, Date.now())).find((s) => s.content === content)
    await vi.waitFor(async () =>
      expect(await byContent('refused')).toMatchObject({
        state: 'failed',
        error: 'WhatsApp rejected the status (error 463)',
      }),
    )
    expect((await byContent('orphaned'))?.state).toBe('pending')
    sock.closeWith(408, 'Connection lost')
    await vi.waitFor(async () =>
      expect(await byContent('orphaned')).toMatchObject({
        state: 'failed',
        error: 'The WhatsApp connection closed before the status was acknowledged',
      }),
    )
    expect(h.eventsOf('status-sent')).toHaveLength(0)
  })

  it('answers 504 when preparing takes too long, and still marks the status sent once it goes out', async () => {
    const { sessionId, sock } = await openSession({
      env: { STATUS_ACK_TIMEOUT_MS: '150', STATUS_PREPARE_TIMEOUT_MS: '150' },
    })
    const prepare = gate()
    sock.prepareGate = prepare.promise
    await expect(send(sessionId, {})).rejects.toEqual(
      new AppError('timeout', 'WhatsApp took too long to prepare the status'),
    )
    expect(await rowOf(sessionId)).toMatchObject({
      state: 'pending',
      error: 'WhatsApp took too long to prepare the status; a late acknowledgement can still mark it sent',
    })
    prepare.open()
    sock.ack(await sentId(sock))
    await vi.waitFor(async () => expect((await rowOf(sessionId)).state).toBe('sent'))
    expect(h.eventsOf('status-sent', sessionId)).toHaveLength(1)
  })

  it('records the verdict of a late status before the connector stops', async () => {
    const { sessionId, sock } = await openSession({ env: { STATUS_ACK_TIMEOUT_MS: '150' } })
    const reply = send(sessionId, {})
    await sentId(sock)
    await expect(reply).rejects.toMatchObject({ code: 'timeout' })
    const row = await rowOf(sessionId)
    await h.connector.stop()
    expect(await h.repos.statuses.get(sessionId, row.id)).toMatchObject({ state: 'failed' })
  })

  it('gives 50 parallel sends their own verdicts on one set of socket listeners', async () => {
    const { sessionId, sock } = await openSession()
    // Baileys' event emitter keeps Node's default limit; one listener per send would trip it.
    sock.ev.setMaxListeners(10)
    sock.ws.setMaxListeners(10)
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const before = {
        update: sock.ev.listenerCount('messages.update'),
        upsert: sock.ev.listenerCount('messages.upsert'),
        ack: sock.ws.listenerCount('CB:ack,class:message'),
      }
      const replies = Array.from({ length: 50 }, (_, i) =>
        send(sessionId, { content: `parallel ${i}` }).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      )
      await vi.waitFor(() => expect(sock.sent).toHaveLength(50))
      expect(sock.ev.listenerCount('messages.update')).toBe(before.update)
      expect(sock.ev.listenerCount('messages.upsert')).toBe(before.upsert)
      expect(sock.ws.listenerCount('CB:ack,class:message')).toBe(before.ack)

      // Every third send is refused; acks go out in reverse order of sending.
      const sent = sock.sent.map((m) => ({
        id: m.options?.messageId ?? '',
        content: (m.content as { text: string }).text,
      }))
      for (const [i, { id }] of [...sent.entries()].reverse()) sock.ack(id, i % 3 === 0 ? '479' : undefined)
      const outcomes = await Promise.all(replies)

      for (const [i, outcome] of outcomes.entries()) {
        const stanza = sent.findIndex((m) => m.content === `parallel ${i}`)
        if (stanza % 3 === 0) {
          expect(outcome).toMatchObject({
            ok: false,
            error: { message: 'WhatsApp rejected the status (error 479)' },
          })
        } else {
          expect(outcome).toMatchObject({ ok: true, value: { waMessageId: sent[stanza]?.id } })
        }
      }
      const stored = await h.repos.statuses.listActive(sessionId, Date.now())
      expect(stored.filter((s) => s.state === 'sent')).toHaveLength(33)
      expect(stored.filter((s) => s.state === 'failed')).toHaveLength(17)
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
