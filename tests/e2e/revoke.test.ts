import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EVENTUALLY, linkByQr, MODES, startTestbed, type Testbed } from './harness.js'

/** "Delete for everyone": the revoke reaches the phones that got the status, acked by the server. */
describe.each(MODES)('deleting a status for everyone (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('revokes it on the audience’s phones, answering after the ack; a refusal keeps it', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550010001' })
    const contacts = ['15550010002', '15550010003'].map((phone) => sim.createAccount({ phone }))
    const product = await bed.startProduct()
    await linkByQr(product, sim, { sessionId: 'revoker', phone: owner.phone })
    const send = async (content: string) => {
      const sent = await product.api.post<{ statusId: string; waMessageId: string }>(
        '/api/sessions/revoker/send-status',
        { type: 'text', content, targetNumbers: contacts.map((c) => c.phone).join(',') },
      )
      expect(sent.status).toBe(200)
      return sent.data
    }
    const first = await send('Oops, wrong audience')
    for (const contact of contacts) {
      await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
    }

    const deleted = await product.api.delete(
      `/api/sessions/revoker/delete-status/${first.statusId}?forEveryone=true`,
    )
    expect(deleted).toMatchObject({
      status: 200,
      data: { deletedFromWhatsApp: true, deletedFromDatabase: true },
    })
    for (const contact of contacts) {
      await vi.waitFor(
        () => expect(sim.receivedStatuses(contact.phone).map((s) => s.kind)).toEqual(['text', 'revoke']),
        EVENTUALLY,
      )
      expect(sim.receivedStatuses(contact.phone)[1]?.revokedId).toBe(first.waMessageId)
    }
    expect((await product.api.get<{ id: string }[]>('/api/sessions/revoker/sent-statuses')).data).toEqual([])

    // WhatsApp refuses the revoke: the answer says so and the status stays tracked.
    const second = await send('Keep me')
    sim.setStatusAck(owner.phone, { error: 479 })
    const refused = await product.api.delete(
      `/api/sessions/revoker/delete-status/${second.statusId}?forEveryone=true`,
    )
    expect(refused).toMatchObject({ status: 503, error: 'WhatsApp rejected the deletion (error 479)' })
    const listed = (await product.api.get<{ id: string }[]>('/api/sessions/revoker/sent-statuses')).data
    expect(listed.map((s) => s.id)).toEqual([second.statusId])
  })
})
