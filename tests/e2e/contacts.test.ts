import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import { EVENTUALLY, linkByQr, MODES, startTestbed, type Testbed } from './harness.js'

/** The phone's contacts arrive with the history sync of a new link; `"all"` posts to every one. */
describe.each(MODES)('synced contacts (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('stores the contacts the phone syncs, lists them, and sends a status to "all" of them', async () => {
    const { sim } = bed
    const alice = sim.createAccount({ phone: '15550040002' })
    const bob = sim.createAccount({ phone: '15550040003' })
    const stranger = sim.createAccount({ phone: '15550040004' })
    const owner = sim.createAccount({
      phone: '15550040001',
      addressBook: [{ phone: alice.phone, name: 'Alice' }, { phone: bob.phone }],
    })
    const product = await bed.startProduct()

    // Before any link there is nothing to send "all" to.
    expect(
      (
        await product.api.post('/api/sessions', {
          sessionId: 'empty',
          sessionName: 'E',
          authMethod: 'qrcode',
        })
      ).status,
    ).toBe(201)
    const none = await product.api.post('/api/sessions/empty/send-status', {
      type: 'text',
      content: 'Nobody to get this',
      targetNumbers: 'all',
    })
    expect(none).toMatchObject({ status: 400, error: Messages.noContacts })

    await linkByQr(product, sim, { sessionId: 'phone', phone: owner.phone })
    const contacts = await vi.waitFor(async () => {
      const listed = await product.api.get<{ number: string; name: string | null }[]>(
        '/api/sessions/phone/contacts',
      )
      expect(listed.data).toHaveLength(2)
      return listed.data
    }, EVENTUALLY)
    expect(contacts).toEqual([
      { number: alice.phone, name: 'Alice' },
      { number: bob.phone, name: null },
    ])
    const paged = await product.api.get<{ number: string }[]>('/api/sessions/phone/contacts?limit=1')
    expect(paged.data.map((c) => c.number)).toEqual([alice.phone])

    const sent = await product.api.post<{ contactCount: number; waMessageId: string }>(
      '/api/sessions/phone/send-status',
      {
        type: 'text',
        content: 'To everyone I know',
        targetNumbers: 'all',
      },
    )
    expect(sent.status).toBe(200)
    expect(sent.data.contactCount).toBe(2)
    for (const contact of [alice, bob]) {
      await vi.waitFor(
        () => expect(sim.receivedStatuses(contact.phone).map((s) => s.id)).toEqual([sent.data.waMessageId]),
        EVENTUALLY,
      )
    }
    expect(sim.receivedStatuses(stranger.phone)).toEqual([])
  })
})
