import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ServerEvents } from '../../shared/events.js'
import type { StatusView, Viewer } from '../../shared/schemas.js'
import type { SimAccount } from '../sim/accounts.js'
import { EVENTUALLY, linkByQr, MODES, type Product, startTestbed, type Testbed } from './harness.js'

interface SendReply {
  statusId: string
  waMessageId: string
}

describe.each(MODES)('status views (%s)', (mode) => {
  const sessionId = 'watched'
  let bed: Testbed
  let product: Product
  let owner: SimAccount

  beforeAll(async () => {
    bed = await startTestbed({ mode })
    owner = bed.sim.createAccount({ phone: '15550004001' })
    product = await bed.startProduct()
    await linkByQr(product, bed.sim, { sessionId, phone: owner.phone })
  })

  afterAll(async () => {
    await bed?.close()
  })

  const postStatus = async (content: string, targets: SimAccount[]) => {
    const sent = await product.api.post<SendReply>(`/api/sessions/${sessionId}/send-status`, {
      type: 'text',
      content,
      targetNumbers: targets.map((t) => t.phone).join(','),
    })
    expect(sent.status).toBe(200)
    return sent.data
  }

  const viewersOf = async (statusId: string) => {
    const viewers = await product.api.get<Viewer[]>(`/api/sessions/${sessionId}/status-viewers/${statusId}`)
    expect(viewers.status).toBe(200)
    return viewers.data
  }

  /** Every viewer the `status-viewers-update` events of one status announced as new. */
  const announced = (statusId: string, since = 0) =>
    product.events
      .of('status-viewers-update', { sessionId, since, where: (e) => e.statusId === statusId })
      .flatMap((update: ServerEvents['status-viewers-update']) => update.newViewers)

  it('records who viewed a status, with numbers, first-view times and isReal, live and over REST', async () => {
    const alice = bed.sim.createAccount({ phone: '15550004002', devices: 2 })
    const bob = bed.sim.createAccount({ phone: '15550004003' })
    const carol = bed.sim.createAccount({ phone: '15550004004' })
    const stranger = bed.sim.createAccount({ phone: '15550004005' })
    const { statusId, waMessageId } = await postStatus('Who sees this?', [alice, bob, carol])
    const before = Date.now() - 1_000

    await bed.sim.view(alice.phone, owner.phone, waMessageId)
    // Carol is LID-only: her receipt names her LID and nothing else; the product knows her number
    // from resolving the audience when it sent the status.
    await bed.sim.view(carol.phone, owner.phone, waMessageId, { asLid: true, withoutPn: true })
    // Someone outside the audience seen only by LID: no way to know the number.
    await bed.sim.view(stranger.phone, owner.phone, waMessageId, { asLid: true, withoutPn: true })

    await vi.waitFor(() => expect(announced(statusId)).toHaveLength(3), EVENTUALLY)
    const after = Date.now() + 1_000
    const expected = [
      { jid: `${alice.phone}@s.whatsapp.net`, number: alice.phone, lid: null, isReal: true },
      { jid: `${carol.phone}@s.whatsapp.net`, number: carol.phone, lid: `${carol.lid}@lid`, isReal: true },
      { jid: `${stranger.lid}@lid`, number: null, lid: `${stranger.lid}@lid`, isReal: false },
    ]
    expect(announced(statusId)).toEqual(
      expect.arrayContaining(expected.map((viewer) => expect.objectContaining(viewer))),
    )
    const latest = product.events.of('status-viewers-update', { sessionId }).at(-1)!
    expect(latest.statusId).toBe(statusId)
    expect(latest.viewers).toHaveLength(3)

    const stored = await viewersOf(statusId)
    expect(stored).toHaveLength(3)
    expect(stored).toEqual(expect.arrayContaining(expected.map((viewer) => expect.objectContaining(viewer))))
    for (const viewer of stored) {
      const at = Date.parse(viewer.viewedAt)
      expect(at).toBeGreaterThanOrEqual(before)
      expect(at).toBeLessThanOrEqual(after)
    }

    // Alice's second view (played this time) keeps her first time; Bob is one more viewer.
    const aliceFirst = stored.find((v) => v.number === alice.phone)!.viewedAt
    await bed.sim.view(alice.phone, owner.phone, waMessageId, { type: 'played' })
    await bed.sim.view(bob.phone, owner.phone, waMessageId, { type: 'played' })
    await vi.waitFor(async () => expect(await viewersOf(statusId)).toHaveLength(4), EVENTUALLY)
    const all = await viewersOf(statusId)
    expect(all.filter((v) => v.number === alice.phone)).toEqual([
      expect.objectContaining({ viewedAt: aliceFirst }),
    ])
    expect(announced(statusId).map((v) => v.number)).toEqual(
      expect.arrayContaining([alice.phone, bob.phone, carol.phone, null]),
    )
    expect(announced(statusId)).toHaveLength(4)

    const listed = await product.api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`)
    expect(listed.data.find((s) => s.id === statusId)).toMatchObject({ viewerCount: 4 })
  })

  it('records a burst of 1,000 receipts completely', { timeout: 60_000 }, async () => {
    const crowd = Array.from({ length: 1_000 }, (_, i) =>
      bed.sim.createAccount({ phone: `1555100${String(i).padStart(4, '0')}` }),
    )
    const { statusId, waMessageId } = await postStatus('Viral', [])
    const since = product.events.mark()

    const burst = await bed.sim.viewBurst(
      owner.phone,
      waMessageId,
      crowd.map((account, i) => (i % 2 ? account.phone : { phone: account.phone, asLid: true })),
    )
    expect(burst).toEqual({ delivered: 1_000, queued: 0 })

    await vi.waitFor(async () => expect(await viewersOf(statusId)).toHaveLength(1_000), {
      ...EVENTUALLY,
      timeout: 30_000,
      interval: 200,
    })
    const numbers = new Set((await viewersOf(statusId)).map((v) => v.number))
    expect(numbers).toEqual(new Set(crowd.map((c) => c.phone)))

    // Live: every viewer announced once, and the last update carries the whole list.
    await vi.waitFor(() => expect(announced(statusId, since)).toHaveLength(1_000), EVENTUALLY)
    expect(new Set(announced(statusId, since).map((v) => v.number)).size).toBe(1_000)
    const updates = product.events.of('status-viewers-update', { sessionId, since })
    expect(updates.at(-1)!.viewers).toHaveLength(1_000)
  })
})
