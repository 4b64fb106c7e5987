import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { EVENTUALLY, MODES, startTestbed, type Testbed } from './harness.js'

describe.each(MODES)('QR linking journey (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('shows the QR, links when the phone scans it, and stays linked across a product restart', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550001001' })
    const contact = sim.createAccount({ phone: '15550001002' })
    const product = await bed.startProduct()
    const sessionId = 'qr-journey'

    const created = await product.api.post('/api/sessions', {
      sessionId,
      sessionName: 'My phone',
      authMethod: 'qrcode',
    })
    expect(created).toMatchObject({
      status: 201,
      data: { sessionId, authMethod: 'qrcode', phoneNumber: null, started: true },
    })
    expect(await product.events.waitFor('session-created', { sessionId })).toMatchObject({
      sessionName: 'My phone',
      authMethod: 'qrcode',
    })

    // The QR arrives as an event and is readable over REST, as a PNG data URL both times.
    const { qrCode } = await product.events.waitFor('qr-code', { sessionId })
    expect(qrCode).toMatch(/^data:image\/png;base64,/)
    expect(await product.api.get(`/api/sessions/${sessionId}/qr-code`)).toMatchObject({
      status: 200,
      data: { sessionId, qrCode, authMethod: 'qrcode', connected: false },
    })
    expect((await product.api.get(`/api/sessions/${sessionId}/connection-status`)).data).toMatchObject({
      connected: false,
      status: 'qr',
      qrCode,
    })

    // The phone's camera reads the image the product shows.
    await sim.scanQr(decodeQrDataUrl(qrCode), owner.phone)
    const connected = await product.events.waitFor('connection-status', {
      sessionId,
      where: (event) => event.connected,
    })
    expect(connected).toEqual({ sessionId, connected: true, status: 'open', ownNumber: owner.phone })
    expect((await product.api.get(`/api/sessions/${sessionId}/connection-status`)).data).toMatchObject({
      connected: true,
      status: 'open',
      ownNumber: owner.phone,
      qrCode: null,
    })
    const linkedDevices = sim.linkedDevices(owner.phone)
    expect(linkedDevices).toHaveLength(1)

    // Restart: same data dir, new process state. The session logs straight back in.
    await product.stop()
    await vi.waitFor(() => expect(sim.isOnline(owner.phone)).toBe(false), EVENTUALLY)
    const restarted = await bed.startProduct({ dataDir: product.dataDir })
    await vi.waitFor(async () => {
      const status = await restarted.api.get(`/api/sessions/${sessionId}/connection-status`)
      expect(status.data).toMatchObject({ connected: true, status: 'open', ownNumber: owner.phone })
    }, EVENTUALLY)
    expect(sim.linkedDevices(owner.phone)).toEqual(linkedDevices)
    expect(sim.connectionDetails(owner.phone).map((c) => c.deviceId)).toEqual(linkedDevices)
    expect(restarted.events.of('qr-code')).toEqual([])

    // And it works: a status posted after the restart reaches the contact.
    const sent = await restarted.api.post(`/api/sessions/${sessionId}/send-status`, {
      type: 'text',
      content: 'back after a restart',
      targetNumbers: contact.phone,
    })
    expect(sent.status).toBe(200)
    await vi.waitFor(
      () => expect(sim.receivedStatuses(contact.phone).map((s) => s.text)).toEqual(['back after a restart']),
      EVENTUALLY,
    )
  })
})
