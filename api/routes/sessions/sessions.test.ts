import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppError, Messages } from '../../../shared/errors.js'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext()
})
afterEach(() => t.close())

const pairing = { sessionId: 'personal', sessionName: 'Personal WhatsApp', phoneNumber: '628123456789' }

describe('POST /api/sessions', () => {
  it('stores the session, announces it and starts it (201)', async () => {
    const res = await t.json('/api/sessions', 'POST', pairing)
    expect(res.status).toBe(201)
    const json = await body(res)
    expect(json).toMatchObject({
      success: true,
      data: { ...pairing, authMethod: 'pairing', started: true, message: 'Session created successfully' },
    })
    expect(Date.parse(json.data.createdAt)).not.toBeNaN()
    expect(await t.repos.sessions.get('personal')).toMatchObject({
      state: 'created',
      phoneNumber: '628123456789',
    })
    expect(t.events.map((e) => e.event)).toEqual(['session-created'])
    expect(t.connector.commandsNamed('session.start').map((c) => c.input)).toEqual([
      { sessionId: 'personal' },
    ])
  })

  it('creates a QR session without a phone number', async () => {
    const res = await t.json('/api/sessions', 'POST', {
      sessionId: 'biz',
      sessionName: 'Biz',
      authMethod: 'qrcode',
    })
    expect(res.status).toBe(201)
    expect((await body(res)).data).toMatchObject({ authMethod: 'qrcode', phoneNumber: null })
  })

  it('still creates the session when no connector answers, reporting started: false', async () => {
    const silent = await createTestContext({ noConnector: true })
    try {
      const res = await silent.json('/api/sessions', 'POST', pairing)
      expect(res.status).toBe(201)
      expect((await body(res)).data.started).toBe(false)
      expect(await silent.repos.sessions.get('personal')).not.toBeNull()
    } finally {
      await silent.close()
    }
  })

  it('refuses a duplicate id with 409', async () => {
    await t.seedSession('personal')
    const res = await t.json('/api/sessions', 'POST', pairing)
    expect(res.status).toBe(409)
    expect(await body(res)).toEqual({ success: false, error: Messages.sessionExists })
  })

  it.each([
    [{ sessionName: 'x', phoneNumber: '628123456789' }, 'sessionId is required'],
    [{ ...pairing, sessionId: 'bad id!' }, 'sessionId may contain only letters, numbers, _ and - (max 64)'],
    [{ ...pairing, sessionName: '' }, 'sessionName must not be empty'],
    [{ ...pairing, phoneNumber: undefined }, 'phoneNumber is required when authMethod is "pairing"'],
    [{ ...pairing, phoneNumber: '12345' }, 'phoneNumber must be 10-15 digits including the country code'],
    [{ ...pairing, authMethod: 'sms' }, 'authMethod must be one of: pairing, qrcode'],
  ])('answers 400 naming the field for %j', async (input, error) => {
    const res = await t.json('/api/sessions', 'POST', input)
    expect(res.status).toBe(400)
    expect(await body(res)).toEqual({ success: false, error })
  })

  it('answers 400 for malformed JSON and 415 for a non-JSON body', async () => {
    const bad = await t.request('/api/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sessionId":',
    })
    expect(bad.status).toBe(400)
    expect((await body(bad)).success).toBe(false)
    const text = await t.request('/api/sessions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(text.status).toBe(415)
  })

  it('needs the API key', async () => {
    const res = await t.request('/api/sessions', {
      method: 'POST',
      apiKey: null,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(pairing),
    })
    expect(res.status).toBe(401)
    expect(await t.repos.sessions.get('personal')).toBeNull()
  })
})

describe('GET /api/sessions', () => {
  it('lists sessions with their connection state', async () => {
    await t.seedSession('a', { state: 'open', ownNumber: '628111', pairingCode: 'STALE123' })
    await t.seedSession('b', { state: 'pairing', pairingCode: 'ABCD1234' })
    const res = await t.request('/api/sessions')
    expect(res.status).toBe(200)
    const { data } = await body(res)
    const byId = Object.fromEntries(data.map((s: { sessionId: string }) => [s.sessionId, s]))
    expect(byId.a).toMatchObject({ connected: true, status: 'open', ownNumber: '628111', pairingCode: null })
    expect(byId.b).toMatchObject({ connected: false, pairingCode: 'ABCD1234', qrCode: null, ownNumber: null })
    expect(Object.keys(byId.a).sort()).toEqual(
      [
        'authMethod',
        'connected',
        'connectorId',
        'createdAt',
        'lastError',
        'ownNumber',
        'pairingCode',
        'phoneNumber',
        'qrCode',
        'sessionId',
        'sessionName',
        'status',
        'updatedAt',
      ].sort(),
    )
  })

  it('needs the API key', async () => {
    expect((await t.request('/api/sessions', { apiKey: 'wrong-key-wrong-key' })).status).toBe(401)
  })
})

describe('DELETE /api/sessions/:sessionId', () => {
  it('deletes the session, its statuses, unused media and lid map, and announces it', async () => {
    await t.seedSession('personal', { state: 'open' })
    const shared = await t.seedUpload('image')
    const own = await t.seedUpload('video')
    await t.seedSession('other')
    await t.seedStatus('other', { type: 'image', content: shared.filename, mediaFilename: shared.filename })
    const mine = await t.seedStatus('personal', {
      type: 'image',
      content: shared.filename,
      mediaFilename: shared.filename,
    })
    await t.seedStatus('personal', { type: 'video', content: own.filename, mediaFilename: own.filename })
    await t.repos.viewers.recordMany([
      {
        sessionId: 'personal',
        statusId: mine.id,
        jid: '62811@s.whatsapp.net',
        number: '62811',
        lid: null,
        isReal: true,
        viewedAt: 1,
      },
    ])
    await t.repos.lidMap.upsertMany('personal', [{ lid: '123@lid', pn: '62811' }])

    const res = await t.request('/api/sessions/personal', { method: 'DELETE' })
    expect(res.status).toBe(200)
    expect(await body(res)).toEqual({
      success: true,
      data: { sessionId: 'personal', message: 'Session deleted successfully' },
    })
    expect(t.connector.commandsNamed('session.delete')).toHaveLength(1)
    expect(await t.repos.sessions.get('personal')).toBeNull()
    expect(await t.repos.statuses.listActive('personal', 0)).toEqual([])
    expect(await t.repos.viewers.list('personal', mine.id)).toEqual([])
    expect((await t.repos.lidMap.getPnForLids('personal', ['123@lid'])).size).toBe(0)
    // The video only this session used is gone; the image another session's status uses stays.
    expect(await t.media.exists(own.filename)).toBe(false)
    expect(await t.repos.uploads.get(own.filename)).toBeNull()
    expect(await t.media.exists(shared.filename)).toBe(true)
    expect(t.events.at(-1)).toEqual({ event: 'session-deleted', payload: { sessionId: 'personal' } })
  })

  it('deletes the data even when no connector answers', async () => {
    const silent = await createTestContext({ noConnector: true })
    try {
      await silent.seedSession('personal')
      expect((await silent.request('/api/sessions/personal', { method: 'DELETE' })).status).toBe(200)
      expect(await silent.repos.sessions.get('personal')).toBeNull()
    } finally {
      await silent.close()
    }
  })

  it('answers 404 for an unknown session, 400 for a bad id, 401 without key', async () => {
    const missing = await t.request('/api/sessions/nobody', { method: 'DELETE' })
    expect(missing.status).toBe(404)
    expect(await body(missing)).toEqual({ success: false, error: Messages.sessionNotFound })
    const bad = await t.request('/api/sessions/bad%20id', { method: 'DELETE' })
    expect(bad.status).toBe(400)
    expect((await body(bad)).error).toMatch(/^sessionId /)
    await t.seedSession('personal')
    expect((await t.request('/api/sessions/personal', { method: 'DELETE', apiKey: null })).status).toBe(401)
    expect(await t.repos.sessions.get('personal')).not.toBeNull()
  })
})

describe('POST /api/sessions/:sessionId/restart', () => {
  it('asks the connector to restart', async () => {
    await t.seedSession('personal')
    const res = await t.request('/api/sessions/personal/restart', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(await body(res)).toEqual({
      success: true,
      data: { sessionId: 'personal', message: 'Session restarted successfully' },
    })
    expect(t.connector.commandsNamed('session.restart')).toHaveLength(1)
  })

  it('answers 504 when the connector stays silent, 503 when there is none', async () => {
    const slow = await createTestContext({ timeoutScale: 0.001 })
    const none = await createTestContext({ noConnector: true })
    try {
      await slow.seedSession('personal')
      slow.connector.silence('session.restart')
      const res = await slow.request('/api/sessions/personal/restart', { method: 'POST' })
      expect(res.status).toBe(504)
      expect(await body(res)).toEqual({ success: false, error: Messages.connectorTimeout })
      await none.seedSession('personal')
      const unavailable = await none.request('/api/sessions/personal/restart', { method: 'POST' })
      expect(unavailable.status).toBe(503)
      expect((await body(unavailable)).error).toBe(Messages.connectorUnavailable)
    } finally {
      await slow.close()
      await none.close()
    }
  })

  it('answers 404, 400 and 401', async () => {
    expect((await t.request('/api/sessions/nobody/restart', { method: 'POST' })).status).toBe(404)
    expect((await t.request('/api/sessions/b%24d/restart', { method: 'POST' })).status).toBe(400)
    expect((await t.request('/api/sessions/nobody/restart', { method: 'POST', apiKey: null })).status).toBe(
      401,
    )
    expect(t.connector.commands).toHaveLength(0)
  })
})

describe('PUT /api/sessions/:sessionId/phone-number', () => {
  it('updates the number', async () => {
    await t.seedSession('personal')
    const res = await t.json('/api/sessions/personal/phone-number', 'PUT', { phoneNumber: '628987654321' })
    expect(res.status).toBe(200)
    expect(await body(res)).toEqual({
      success: true,
      data: {
        sessionId: 'personal',
        phoneNumber: '628987654321',
        message: 'Phone number updated successfully',
      },
    })
    expect((await t.repos.sessions.get('personal'))?.phoneNumber).toBe('628987654321')
  })

  it('answers 400, 404 and 401', async () => {
    await t.seedSession('personal')
    const bad = await t.json('/api/sessions/personal/phone-number', 'PUT', { phoneNumber: '+62 812' })
    expect(bad.status).toBe(400)
    expect((await body(bad)).error).toBe('phoneNumber must be 10-15 digits including the country code')
    const missing = await t.json('/api/sessions/personal/phone-number', 'PUT', {})
    expect((await body(missing)).error).toBe('phoneNumber is required')
    expect(
      (await t.json('/api/sessions/nobody/phone-number', 'PUT', { phoneNumber: '628987654321' })).status,
    ).toBe(404)
    const noKey = await t.request('/api/sessions/personal/phone-number', {
      method: 'PUT',
      apiKey: null,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber: '628987654321' }),
    })
    expect(noKey.status).toBe(401)
  })
})

describe('GET /api/sessions/:sessionId/connection-status', () => {
  it('reports the stored state', async () => {
    await t.seedSession('personal', {
      state: 'qr',
      qrCode: 'data:image/png;base64,AAAA',
      lastError: 'Connection Closed',
    })
    const res = await t.request('/api/sessions/personal/connection-status')
    expect(res.status).toBe(200)
    expect((await body(res)).data).toEqual({
      sessionId: 'personal',
      connected: false,
      status: 'qr',
      authMethod: 'pairing',
      pairingCode: null,
      qrCode: 'data:image/png;base64,AAAA',
      phoneNumber: '628123456789',
      ownNumber: null,
      lastError: 'Connection Closed',
      connectorId: null,
    })
  })

  it('answers 404, 400 and 401', async () => {
    expect((await t.request('/api/sessions/nobody/connection-status')).status).toBe(404)
    expect((await t.request('/api/sessions/a.b/connection-status')).status).toBe(400)
    expect((await t.request('/api/sessions/nobody/connection-status', { apiKey: null })).status).toBe(401)
  })
})

describe('GET /api/sessions/:sessionId/pairing-code', () => {
  it('returns the pending code', async () => {
    await t.seedSession('personal', { state: 'pairing', pairingCode: 'ABCD1234' })
    const res = await t.request('/api/sessions/personal/pairing-code')
    expect(res.status).toBe(200)
    expect((await body(res)).data).toEqual({
      sessionId: 'personal',
      pairingCode: 'ABCD1234',
      phoneNumber: '628123456789',
      connected: false,
    })
  })

  it('answers 404, 400 and 401', async () => {
    expect((await t.request('/api/sessions/nobody/pairing-code')).status).toBe(404)
    expect((await t.request('/api/sessions/no%20pe/pairing-code')).status).toBe(400)
    expect((await t.request('/api/sessions/nobody/pairing-code', { apiKey: null })).status).toBe(401)
  })
})

describe('POST /api/sessions/:sessionId/request-pairing-code', () => {
  it('asks the connector for a fresh code', async () => {
    await t.seedSession('personal', { state: 'pairing' })
    const res = await t.request('/api/sessions/personal/request-pairing-code', { method: 'POST' })
    expect(res.status).toBe(200)
    expect((await body(res)).data).toEqual({
      sessionId: 'personal',
      pairingCode: 'ABCD1234',
      phoneNumber: '628123456789',
      message: 'New pairing code generated',
    })
  })

  it('answers 409 when connected, 400 without a phone number, 409 for a QR session', async () => {
    await t.seedSession('linked', { state: 'open' })
    await t.seedSession('nophone', { phoneNumber: null })
    await t.seedSession('qr', { authMethod: 'qrcode' })
    const linked = await t.request('/api/sessions/linked/request-pairing-code', { method: 'POST' })
    expect(linked.status).toBe(409)
    expect((await body(linked)).error).toBe(Messages.alreadyConnected)
    const noPhone = await t.request('/api/sessions/nophone/request-pairing-code', { method: 'POST' })
    expect(noPhone.status).toBe(400)
    expect((await body(noPhone)).error).toBe(Messages.phoneNotSet)
    const qr = await t.request('/api/sessions/qr/request-pairing-code', { method: 'POST' })
    expect(qr.status).toBe(409)
    expect((await body(qr)).error).toBe(Messages.notPairingSession)
    expect(t.connector.commands).toHaveLength(0)
  })

  it("passes the connector's conflict through", async () => {
    await t.seedSession('personal')
    t.connector.on('session.requestPairingCode', () => {
      throw new AppError('conflict', Messages.pairingInProgress)
    })
    const res = await t.request('/api/sessions/personal/request-pairing-code', { method: 'POST' })
    expect(res.status).toBe(409)
    expect((await body(res)).error).toBe(Messages.pairingInProgress)
  })

  it('answers 404, 400 and 401', async () => {
    expect((await t.request('/api/sessions/nobody/request-pairing-code', { method: 'POST' })).status).toBe(
      404,
    )
    expect((await t.request('/api/sessions/no!/request-pairing-code', { method: 'POST' })).status).toBe(400)
    expect(
      (await t.request('/api/sessions/nobody/request-pairing-code', { method: 'POST', apiKey: null })).status,
    ).toBe(401)
  })
})

describe('GET /api/sessions/:sessionId/qr-code', () => {
  it('returns the pending QR code', async () => {
    await t.seedSession('biz', {
      authMethod: 'qrcode',
      phoneNumber: null,
      state: 'qr',
      qrCode: 'data:image/png;base64,QR',
    })
    const res = await t.request('/api/sessions/biz/qr-code')
    expect(res.status).toBe(200)
    expect((await body(res)).data).toEqual({
      sessionId: 'biz',
      qrCode: 'data:image/png;base64,QR',
      authMethod: 'qrcode',
      connected: false,
    })
  })

  it('answers 404, 400 and 401', async () => {
    expect((await t.request('/api/sessions/nobody/qr-code')).status).toBe(404)
    expect((await t.request('/api/sessions/n%C3%B6/qr-code')).status).toBe(400)
    expect((await t.request('/api/sessions/nobody/qr-code', { apiKey: null })).status).toBe(401)
  })
})
