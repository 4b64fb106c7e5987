import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EventName } from '../../shared/events.js'
import { EVENTUALLY, EventRecorder, linkByQr, type Product, startTestbed, type Testbed } from './harness.js'

/**
 * Split mode: the API and each connector serve Socket.IO as one cluster over Redis. A client may
 * attach to any of them and still get every event of every session, each exactly once — the ones
 * a connector emits (qr-code, connection-status, status-sent) and the ones born in the API
 * (session-created, status-deleted, session-deleted), which one connector relays.
 */
describe('Socket.IO cluster (split)', () => {
  let bed: Testbed
  let product: Product
  const recorders: EventRecorder[] = []

  beforeAll(async () => {
    bed = await startTestbed({ mode: 'split' })
    product = await bed.startProduct()
    for (const connector of product.connectors) {
      recorders.push(await EventRecorder.connect(`http://127.0.0.1:${connector.port}`, product.apiKey))
    }
  })

  afterAll(async () => {
    for (const recorder of recorders) recorder.close()
    await bed?.close()
  })

  it('delivers every event to a client on any member, exactly once', async () => {
    const owner = bed.sim.createAccount({ phone: '15550008101' })
    const contact = bed.sim.createAccount({ phone: '15550008102' })
    const sessionId = 'everywhere'
    const clients = [product.events, ...recorders]
    const since = clients.map((client) => client.mark())

    await linkByQr(product, bed.sim, { sessionId, phone: owner.phone })
    const sent = await product.api.post<{ statusId: string }>(`/api/sessions/${sessionId}/send-status`, {
      type: 'text',
      content: 'seen by all',
      targetNumbers: contact.phone,
    })
    expect(sent.status).toBe(200)
    const { statusId } = sent.data
    expect((await product.api.delete(`/api/sessions/${sessionId}/delete-status/${statusId}`)).status).toBe(
      200,
    )
    expect((await product.api.delete(`/api/sessions/${sessionId}`)).status).toBe(200)

    const once: EventName[] = ['session-created', 'status-sent', 'status-deleted', 'session-deleted']
    for (const [i, client] of clients.entries()) {
      await client.waitFor('session-deleted', { sessionId, since: since[i] })
      // The last event is in; anything duplicated would have arrived by now too (one stream).
      await vi.waitFor(() => {
        for (const event of once) {
          expect({
            client: i,
            event,
            count: client.of(event, { sessionId, since: since[i] }).length,
          }).toEqual({
            client: i,
            event,
            count: 1,
          })
        }
      }, EVENTUALLY)
      const connected = client.of('connection-status', {
        sessionId,
        since: since[i],
        where: (e) => e.connected,
      })
      expect(connected).toHaveLength(1)
      expect(client.of('qr-code', { sessionId, since: since[i] }).length).toBeGreaterThanOrEqual(1)
    }
    // Every client saw the same QR codes, in the same order: one emission each, fanned out.
    const qrOf = (client: EventRecorder, i: number) =>
      client.of('qr-code', { sessionId, since: since[i] }).map((e) => e.qrCode)
    const first = qrOf(product.events, 0)
    for (const [i, client] of clients.entries()) expect(qrOf(client, i)).toEqual(first)
  })
})
