import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Messages } from '../../shared/errors.js'
import { MODES, type Product, startTestbed, type Testbed } from './harness.js'

/** Baileys' pairing-code alphabet: no 0, I, O or U. */
const PAIRING_CODE = /^[1-9A-HJ-NP-TV-Z]{8}$/

describe.each(MODES)('pairing-code linking journey (%s)', (mode) => {
  let bed: Testbed
  let product: Product

  beforeEach(async () => {
    bed = await startTestbed({ mode })
    product = await bed.startProduct()
  })

  afterEach(async () => {
    await bed?.close()
  })

  const createPairingSession = async (sessionId: string, phoneNumber: string) => {
    const created = await product.api.post('/api/sessions', {
      sessionId,
      sessionName: 'Work phone',
      authMethod: 'pairing',
      phoneNumber,
    })
    expect(created).toMatchObject({ status: 201, data: { sessionId, authMethod: 'pairing', phoneNumber } })
    return product.events.waitFor('pairing-code', { sessionId })
  }

  it('links with the code from the event and GET, then refuses a new code once connected', async () => {
    const owner = bed.sim.createAccount({ phone: '15550002001' })
    const sessionId = 'pairing-journey'

    const event = await createPairingSession(sessionId, owner.phone)
    expect(event).toMatchObject({ sessionId, phoneNumber: owner.phone, authMethod: 'pairing' })
    expect(event.pairingCode).toMatch(PAIRING_CODE)
    expect(await product.api.get(`/api/sessions/${sessionId}/pairing-code`)).toMatchObject({
      status: 200,
      data: { sessionId, pairingCode: event.pairingCode, phoneNumber: owner.phone, connected: false },
    })

    await bed.sim.enterPairingCode(owner.phone, event.pairingCode)
    expect(
      await product.events.waitFor('connection-status', { sessionId, where: (e) => e.connected }),
    ).toEqual({ sessionId, connected: true, status: 'open', ownNumber: owner.phone })
    expect((await product.api.get(`/api/sessions/${sessionId}/pairing-code`)).data).toMatchObject({
      pairingCode: null,
      connected: true,
    })

    const again = await product.api.post(`/api/sessions/${sessionId}/request-pairing-code`)
    expect(again).toMatchObject({ status: 409, error: Messages.alreadyConnected })
    expect(product.events.of('pairing-code', { sessionId })).toHaveLength(1)
  })

  it('issues a fresh code on request that replaces the first, and refuses a second request while one runs', async () => {
    const owner = bed.sim.createAccount({ phone: '15550002002' })
    const sessionId = 'pairing-renew'
    const first = await createPairingSession(sessionId, owner.phone)
    const since = product.events.mark()

    const path = `/api/sessions/${sessionId}/request-pairing-code`
    const answers = await Promise.all([product.api.post(path), product.api.post(path)])
    const accepted = answers.filter((a) => a.status === 200)
    const refused = answers.filter((a) => a.status !== 200)
    expect(accepted).toHaveLength(1)
    expect(refused).toEqual([{ status: 409, data: undefined, error: Messages.pairingInProgress }])
    const fresh = accepted[0]!.data as { pairingCode: string; phoneNumber: string }
    expect(fresh).toMatchObject({ phoneNumber: owner.phone, message: 'New pairing code generated' })
    expect(fresh.pairingCode).toMatch(PAIRING_CODE)
    expect(fresh.pairingCode).not.toBe(first.pairingCode)
    expect(await product.events.waitFor('pairing-code', { sessionId, since })).toMatchObject({
      pairingCode: fresh.pairingCode,
    })
    expect((await product.api.get(`/api/sessions/${sessionId}/pairing-code`)).data).toMatchObject({
      pairingCode: fresh.pairingCode,
    })

    // The replaced code no longer links: the phone cannot open what the product answers with it.
    await expect(bed.sim.enterPairingCode(owner.phone, first.pairingCode)).rejects.toThrow(/rejected/)
    expect(bed.sim.linkedDevices(owner.phone)).toEqual([])

    // After a failed attempt the user asks once more, and that code links.
    const retry = await product.api.post<{ pairingCode: string }>(path)
    expect(retry.status).toBe(200)
    await bed.sim.enterPairingCode(owner.phone, retry.data.pairingCode)
    expect(
      await product.events.waitFor('connection-status', { sessionId, where: (e) => e.connected }),
    ).toMatchObject({ ownNumber: owner.phone })
    expect(bed.sim.linkedDevices(owner.phone)).toHaveLength(1)
  })

  it('refuses a pairing code for a QR session', async () => {
    const created = await product.api.post('/api/sessions', {
      sessionId: 'qr-only',
      sessionName: 'QR',
      authMethod: 'qrcode',
    })
    expect(created.status).toBe(201)
    expect(await product.api.post('/api/sessions/qr-only/request-pairing-code')).toMatchObject({
      status: 409,
      error: Messages.notPairingSession,
    })
  })
})
