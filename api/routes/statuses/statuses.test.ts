import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppError, Messages } from '../../../shared/errors.js'
import { MAX_TARGET_NUMBERS } from '../../../shared/schemas.js'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext()
  await t.seedSession('personal', { state: 'open', ownNumber: '628123456789' })
})
afterEach(() => t.close())

const send = (input: unknown, sessionId = 'personal') =>
  t.json(`/api/sessions/${sessionId}/send-status`, 'POST', input)

describe('POST /api/sessions/:sessionId/send-status', () => {
  it('sends a text status through the connector', async () => {
    const res = await send({
      type: 'text',
      content: 'Hello World! 👋',
      caption: 'ignored for text',
      targetNumbers: '628123456789, +628987654321,,',
      backgroundColor: '#315575',
      font: 2,
    })
    expect(res.status).toBe(200)
    const json = await body(res)
    expect(json).toMatchObject({
      success: true,
      data: {
        message: 'Status successfully sent to WhatsApp',
        waMessageId: '3EB0C78C1A4A5B2D8F9E',
        contactCount: 2,
      },
    })
    expect(json.data.statusId).toMatch(/^\d+$/)
    const [command] = t.connector.commandsNamed('status.send')
    expect(command?.input).toEqual({
      sessionId: 'personal',
      type: 'text',
      content: 'Hello World! 👋',
      targetNumbers: ['628123456789', '628987654321'],
      backgroundColor: '#315575',
      font: 2,
    })
  })

  it('sends an uploaded image with its caption', async () => {
    const upload = await t.seedUpload('image')
    const res = await send({ type: 'image', content: upload.filename, caption: 'Sunset 🌅' })
    expect(res.status).toBe(200)
    expect(t.connector.commandsNamed('status.send')[0]?.input).toEqual({
      sessionId: 'personal',
      type: 'image',
      content: upload.filename,
      caption: 'Sunset 🌅',
      targetNumbers: [],
    })
  })

  it('refuses image content that is not an existing upload of that kind', async () => {
    const video = await t.seedUpload('video')
    const pending = await t.request('/api/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'image', contentType: 'image/png', size: 100 }),
    })
    const notYetPut = (await body(pending)).data.filename
    for (const content of ['1704067200000-vacation.jpg', '../../etc/passwd', video.filename, notYetPut]) {
      const res = await send({ type: 'image', content })
      expect(res.status, content).toBe(400)
      expect(await body(res)).toEqual({ success: false, error: Messages.fileNotFound })
    }
    expect(t.connector.commands).toHaveLength(0)
  })

  it('sends a public media URL', async () => {
    const res = await send({ type: 'url', content: 'https://media.example.com/photo.jpg', caption: 'Look' })
    expect(res.status).toBe(200)
    expect(t.connector.commandsNamed('status.send')[0]?.input).toMatchObject({
      type: 'url',
      content: 'https://media.example.com/photo.jpg',
      caption: 'Look',
    })
  })

  it.each([
    ['ftp://media.example.com/a.jpg', Messages.urlScheme],
    ['file:///etc/passwd', Messages.urlScheme],
    ['not a url', Messages.urlInvalid],
    ['http://127.0.0.1/a.jpg', Messages.urlNonPublic],
    ['http://2130706433/a.jpg', Messages.urlNonPublic],
    ['http://[::ffff:10.0.0.1]/a.jpg', Messages.urlNonPublic],
    ['http://169.254.169.254/latest/meta-data', Messages.urlNonPublic],
    ['http://localhost:3000/api/health', Messages.urlNonPublic],
    ['http://user:pw@media.example.com/a.jpg', Messages.urlCredentials],
    ['https://metadata.example.com/a.jpg', Messages.urlNonPublic],
    ['https://rebind.example.com/a.jpg', Messages.urlNonPublic],
    ['https://v6private.example.com/a.jpg', Messages.urlNonPublic],
    ['https://nowhere.invalid/a.jpg', Messages.urlUnresolvable],
  ])('refuses the URL %s with 400', async (content, error) => {
    const res = await send({ type: 'url', content })
    expect(res.status).toBe(400)
    expect(await body(res)).toEqual({ success: false, error })
    expect(t.connector.commands).toHaveLength(0)
  })

  it.each([
    [{ content: 'x' }, 'type is required'],
    [{ type: 'audio', content: 'x' }, 'type must be one of: text, image, video, url'],
    [{ type: 'text' }, 'content is required'],
    [{ type: 'text', content: '' }, 'content must not be empty'],
    [
      { type: 'text', content: 'x', targetNumbers: '628123456789, 12ab' },
      'targetNumbers: "12ab" is not a valid phone number (10-15 digits including the country code)',
    ],
    [
      { type: 'text', content: 'x', backgroundColor: 'red' },
      'backgroundColor must be a hex colour like #315575',
    ],
    [{ type: 'text', content: 'x', font: 5 }, 'font must be one of 0, 1, 2, 6, 7, 8, 9, 10'],
  ])('answers 400 naming the field for %j', async (input, error) => {
    const res = await send(input)
    expect(res.status).toBe(400)
    expect(await body(res)).toEqual({ success: false, error })
  })

  it.each([
    [{ type: 'text', content: 'before\u0000after' }, 'content must not contain NUL characters'],
    [{ type: 'text', content: ' \n\t ' }, 'content must not be only whitespace'],
    [{ type: 'image', content: '   ' }, 'content must not be only whitespace'],
    [
      { type: 'image', content: '1704067200000-abcdef12.png', caption: 'a\u0000b' },
      'caption must not contain NUL characters',
    ],
  ])('refuses %j with 400', async (input, error) => {
    const res = await send(input)
    expect(res.status).toBe(400)
    expect(await body(res)).toEqual({ success: false, error })
    expect(t.connector.commands).toHaveLength(0)
  })

  it(`takes at most ${MAX_TARGET_NUMBERS} different target numbers`, async () => {
    const numbers = (count: number) => Array.from({ length: count }, (_, i) => String(628100000000 + i))
    const tooMany = await send({ type: 'text', content: 'hi', targetNumbers: numbers(50_001).join(',') })
    expect(tooMany.status).toBe(400)
    expect(await body(tooMany)).toEqual({ success: false, error: 'targetNumbers: at most 50000 numbers' })
    // Repeats count once, as the connector receives them: 1,000 is still one stanza, answered at once.
    const withRepeat = [...numbers(1000), '628100000000'].join(',')
    const res = await send({ type: 'text', content: 'hi', targetNumbers: withRepeat })
    expect(res.status).toBe(200)
    expect((await body(res)).data.contactCount).toBe(1000)
    expect(t.connector.commandsNamed('status.startJob')).toEqual([])
  })

  it('checks the request before the session state: 400 for a bad body on an unlinked session', async () => {
    await t.seedSession('offline', { state: 'qr' })
    for (const [input, error] of [
      [{ type: 'url', content: 'file:///etc/passwd' }, Messages.urlScheme],
      [{ type: 'url', content: 'not a url' }, Messages.urlInvalid],
      [{ type: 'url', content: 'http://user:pw@media.example.com/a.jpg' }, Messages.urlCredentials],
      [{ type: 'url', content: 'http://10.0.0.1/a.jpg' }, Messages.urlNonPublic],
      [{ type: 'url', content: 'https://nowhere.invalid/a.jpg' }, Messages.urlUnresolvable],
      [{ type: 'image', content: '1704067200000-abcdef12.png' }, Messages.fileNotFound],
      [{ type: 'text', content: '' }, 'content must not be empty'],
    ] as const) {
      const res = await send(input, 'offline')
      expect(res.status, input.content).toBe(400)
      expect(await body(res)).toEqual({ success: false, error })
    }
    const valid = await send({ type: 'url', content: 'https://media.example.com/photo.jpg' }, 'offline')
    expect(valid.status).toBe(409)
    expect(t.connector.commands).toHaveLength(0)
  })

  it('answers 409 when the session is not connected', async () => {
    await t.seedSession('offline', { state: 'reconnecting' })
    const res = await send({ type: 'text', content: 'hi' }, 'offline')
    expect(res.status).toBe(409)
    expect(await body(res)).toEqual({ success: false, error: Messages.notConnected })
  })

  it("passes the connector's failure through", async () => {
    t.connector.on('status.send', () => {
      throw new AppError('internal', 'WhatsApp refused the status (error 479)')
    })
    const res = await send({ type: 'text', content: 'hi' })
    expect(res.status).toBe(500)
    expect((await body(res)).error).toBe('WhatsApp refused the status (error 479)')
    t.connector.on('status.send', () => {
      throw new AppError('conflict', Messages.notConnected)
    })
    expect((await send({ type: 'text', content: 'hi' })).status).toBe(409)
  })

  it('answers 504 when the connector never acknowledges', async () => {
    const slow = await createTestContext({ timeoutScale: 0.001 })
    try {
      await slow.seedSession('personal', { state: 'open' })
      slow.connector.silence('status.send')
      const res = await slow.json('/api/sessions/personal/send-status', 'POST', {
        type: 'text',
        content: 'hi',
      })
      expect(res.status).toBe(504)
      expect(await body(res)).toEqual({ success: false, error: Messages.connectorTimeout })
    } finally {
      await slow.close()
    }
  })

  it('answers 404 for an unknown session and 401 without key', async () => {
    const missing = await send({ type: 'text', content: 'hi' }, 'nobody')
    expect(missing.status).toBe(404)
    expect((await body(missing)).error).toBe(Messages.sessionNotFound)
    const noKey = await t.request('/api/sessions/personal/send-status', {
      method: 'POST',
      apiKey: null,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'text', content: 'hi' }),
    })
    expect(noKey.status).toBe(401)
    expect(t.connector.commands).toHaveLength(0)
  })
})

describe('GET /api/sessions/:sessionId/sent-statuses', () => {
  it('lists statuses of the retention window, newest first', async () => {
    const now = Date.now()
    const older = await t.seedStatus('personal', { content: 'older', createdAt: now - 60_000 })
    const newer = await t.seedStatus('personal', {
      content: 'newer',
      createdAt: now - 1_000,
      targetNumbers: '628111, 628222',
    })
    await t.seedStatus('personal', {
      content: 'expired',
      createdAt: now - 25 * 3_600_000,
      expiresAt: now - 3_600_000,
    })
    await t.repos.viewers.recordMany([
      {
        sessionId: 'personal',
        statusId: newer.id,
        jid: '628111@s.whatsapp.net',
        number: '628111',
        lid: null,
        isReal: true,
        viewedAt: now,
      },
    ])
    const res = await t.request('/api/sessions/personal/sent-statuses')
    expect(res.status).toBe(200)
    const { data } = await body(res)
    expect(data.map((s: { id: string }) => s.id)).toEqual([newer.id, older.id])
    expect(data[0]).toMatchObject({
      id: newer.id,
      type: 'text',
      content: 'newer',
      caption: '',
      timestamp: new Date(now - 1_000).toISOString(),
      waMessageId: 'WAMSG1',
      contactCount: 1,
      targetNumbers: '628111, 628222',
      state: 'sent',
      viewerCount: 1,
    })
  })

  it('answers 404, 400 and 401', async () => {
    expect((await t.request('/api/sessions/nobody/sent-statuses')).status).toBe(404)
    expect((await t.request('/api/sessions/a%20b/sent-statuses')).status).toBe(400)
    expect((await t.request('/api/sessions/personal/sent-statuses', { apiKey: null })).status).toBe(401)
  })
})

describe('GET /api/sessions/:sessionId/status-viewers/:statusId', () => {
  it('lists viewers with their first view time', async () => {
    const status = await t.seedStatus('personal')
    await t.repos.viewers.recordMany([
      {
        sessionId: 'personal',
        statusId: status.id,
        jid: '628111@s.whatsapp.net',
        number: '628111',
        lid: null,
        isReal: true,
        viewedAt: 1_700_000_000_000,
      },
      {
        sessionId: 'personal',
        statusId: status.id,
        jid: '99999@lid',
        number: null,
        lid: '99999@lid',
        isReal: false,
        viewedAt: 1_700_000_100_000,
      },
    ])
    const res = await t.request(`/api/sessions/personal/status-viewers/${status.id}`)
    expect(res.status).toBe(200)
    const { data } = await body(res)
    expect(data).toHaveLength(2)
    expect(data).toContainEqual({
      jid: '628111@s.whatsapp.net',
      number: '628111',
      lid: null,
      viewedAt: new Date(1_700_000_000_000).toISOString(),
      isReal: true,
    })
    expect(data).toContainEqual(expect.objectContaining({ jid: '99999@lid', number: null, isReal: false }))
  })

  it('answers 404 for an unknown status or session, 400 for a bad id, 401 without key', async () => {
    const missing = await t.request('/api/sessions/personal/status-viewers/123')
    expect(missing.status).toBe(404)
    expect((await body(missing)).error).toBe(Messages.statusNotFound)
    expect((await body(await t.request('/api/sessions/nobody/status-viewers/123'))).error).toBe(
      Messages.sessionNotFound,
    )
    const bad = await t.request('/api/sessions/personal/status-viewers/a.b')
    expect(bad.status).toBe(400)
    expect((await body(bad)).error).toBe('statusId must be 1-64 letters, numbers, _ or -')
    expect((await t.request('/api/sessions/personal/status-viewers/123', { apiKey: null })).status).toBe(401)
  })
})

describe('DELETE /api/sessions/:sessionId/delete-status/:statusId', () => {
  it('removes the status, its viewers and its media, and announces it', async () => {
    const upload = await t.seedUpload('image')
    const status = await t.seedStatus('personal', {
      type: 'image',
      content: upload.filename,
      mediaFilename: upload.filename,
    })
    const res = await t.request(`/api/sessions/personal/delete-status/${status.id}`, { method: 'DELETE' })
    expect(res.status).toBe(200)
    expect((await body(res)).data).toEqual({
      statusId: status.id,
      message: 'Status removed from local database successfully',
      deletedFromWhatsApp: false,
      deletedFromDatabase: true,
      deletedImageFile: true,
      note: 'Status remains visible in WhatsApp app until natural 24-hour expiry',
    })
    expect(await t.repos.statuses.get('personal', status.id)).toBeNull()
    expect(await t.media.exists(upload.filename)).toBe(false)
    expect(t.events.slice(-2)).toEqual([
      { event: 'status-deleted', payload: { sessionId: 'personal', statusId: status.id } },
      {
        event: 'statuses-updated',
        payload: { sessionId: 'personal', message: 'Statuses updated', action: 'deleted' },
      },
    ])
  })

  it('keeps media another status still uses', async () => {
    const upload = await t.seedUpload('video')
    const first = await t.seedStatus('personal', {
      type: 'video',
      content: upload.filename,
      mediaFilename: upload.filename,
    })
    await t.seedStatus('personal', {
      type: 'video',
      content: upload.filename,
      mediaFilename: upload.filename,
    })
    const res = await t.request(`/api/sessions/personal/delete-status/${first.id}`, { method: 'DELETE' })
    expect((await body(res)).data.deletedImageFile).toBe(false)
    expect(await t.media.exists(upload.filename)).toBe(true)
  })

  it('answers 404, 400 and 401', async () => {
    const status = await t.seedStatus('personal')
    expect((await t.request('/api/sessions/personal/delete-status/404', { method: 'DELETE' })).status).toBe(
      404,
    )
    expect(
      (await t.request(`/api/sessions/nobody/delete-status/${status.id}`, { method: 'DELETE' })).status,
    ).toBe(404)
    expect((await t.request('/api/sessions/personal/delete-status/a%24b', { method: 'DELETE' })).status).toBe(
      400,
    )
    expect(
      (
        await t.request(`/api/sessions/personal/delete-status/${status.id}`, {
          method: 'DELETE',
          apiKey: null,
        })
      ).status,
    ).toBe(401)
    expect(await t.repos.statuses.get('personal', status.id)).not.toBeNull()
  })
})

describe('DELETE …/delete-status/:statusId?forEveryone=true', () => {
  const revoke = (statusId: string, query = 'forEveryone=true') =>
    t.request(`/api/sessions/personal/delete-status/${statusId}?${query}`, { method: 'DELETE' })

  it('has the connector revoke it for its audience, then removes it here', async () => {
    const status = await t.seedStatus('personal', { targetNumbers: '628200000001,628200000002' })
    const res = await revoke(status.id)
    expect(res.status).toBe(200)
    expect((await body(res)).data).toMatchObject({
      statusId: status.id,
      deletedFromWhatsApp: true,
      deletedFromDatabase: true,
      message: 'Status deleted for everyone and removed from local database successfully',
    })
    expect(t.connector.commandsNamed('status.revoke').map((c) => c.input)).toEqual([
      {
        sessionId: 'personal',
        statusId: status.id,
        waMessageId: 'WAMSG1',
        targetNumbers: ['628200000001', '628200000002'],
      },
    ])
    expect(await t.repos.statuses.get('personal', status.id)).toBeNull()
  })

  it('keeps everything when WhatsApp refuses, and refuses what cannot be revoked', async () => {
    t.connector.on('status.revoke', () => {
      throw new AppError('unavailable', 'WhatsApp rejected the deletion (error 479)')
    })
    const status = await t.seedStatus('personal')
    const refused = await revoke(status.id)
    expect(refused.status).toBe(503)
    expect(await body(refused)).toEqual({
      success: false,
      error: 'WhatsApp rejected the deletion (error 479)',
    })
    expect(await t.repos.statuses.get('personal', status.id)).not.toBeNull()

    const failed = await t.seedStatus('personal', { state: 'failed' })
    const notSent = await revoke(failed.id)
    expect(notSent.status).toBe(409)
    expect(await body(notSent)).toEqual({
      success: false,
      error: 'Only a sent status can be deleted for everyone',
    })
    expect((await revoke('777')).status).toBe(404)
    const bad = await revoke(status.id, 'forEveryone=yes')
    expect(bad.status).toBe(400)
    expect(await body(bad)).toEqual({ success: false, error: 'forEveryone must be true or false' })
    // forEveryone=false is the local delete, with no command.
    const local = await revoke(status.id, 'forEveryone=false')
    expect((await body(local)).data.deletedFromWhatsApp).toBe(false)
    expect(t.connector.commandsNamed('status.revoke')).toHaveLength(1)
  })

  it('needs a connected session', async () => {
    await t.seedSession('idle', { state: 'closed' })
    const status = await t.seedStatus('idle')
    const res = await t.request(`/api/sessions/idle/delete-status/${status.id}?forEveryone=true`, {
      method: 'DELETE',
    })
    expect(res.status).toBe(409)
    expect(await body(res)).toEqual({ success: false, error: 'WhatsApp is not connected' })
    expect(await t.repos.statuses.get('idle', status.id)).not.toBeNull()
  })
})
