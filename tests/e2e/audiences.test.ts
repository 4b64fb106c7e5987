import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EVENTUALLY, linkByQr, MODES, startTestbed, type Testbed } from './harness.js'

describe.each(MODES)('saved audiences (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('send a status to the numbers saved under an audienceId', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550013001' })
    const friends = ['15550013002', '15550013003'].map((phone) => sim.createAccount({ phone }))
    const stranger = sim.createAccount({ phone: '15550013004' })
    const product = await bed.startProduct()
    await linkByQr(product, sim, { sessionId: 'aud', phone: owner.phone })
    const saved = await product.api.post<{ audienceId: string; size: number }>(
      '/api/sessions/aud/audiences',
      {
        name: 'Friends',
        numbers: friends.map((f) => f.phone).join(','),
      },
    )
    expect(saved).toMatchObject({ status: 201, data: { size: 2 } })
    const sent = await product.api.post<{ contactCount: number }>('/api/sessions/aud/send-status', {
      type: 'text',
      content: 'Friends only',
      audienceId: saved.data.audienceId,
    })
    expect(sent).toMatchObject({ status: 200, data: { contactCount: 2 } })
    for (const friend of friends) {
      await vi.waitFor(() => expect(sim.receivedStatuses(friend.phone)).toHaveLength(1), EVENTUALLY)
    }
    expect(sim.receivedStatuses(stranger.phone)).toEqual([])
  })
})
