import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EVENTUALLY, linkByQr, MODES, type Product, startTestbed, type Testbed } from './harness.js'

interface Scheduled {
  scheduledId: string
  state: string
  sentCount: number
  lastStatusId: string | null
}

/** Scheduled statuses go out on time from the connector holding the session, once, across restarts. */
describe.each(MODES)('scheduled statuses (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  const scheduleIn = async (product: Product, ms: number, content: string, target: string) => {
    const res = await product.api.post<Scheduled>('/api/sessions/later/send-status', {
      type: 'text',
      content,
      targetNumbers: target,
      sendAt: new Date(Date.now() + ms).toISOString(),
    })
    expect(res.status).toBe(202)
    return res.data.scheduledId
  }
  const scheduledOf = async (product: Product, id: string) =>
    (await product.api.get<Scheduled[]>('/api/sessions/later/scheduled-statuses')).data.find(
      (s) => s.scheduledId === id,
    )

  it('sends on time, once, and after a restart that spanned its time; past the grace it is missed', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550014001' })
    const contact = sim.createAccount({ phone: '15550014002' })
    let product = await bed.startProduct({ env: { SCHEDULE_GRACE_SECONDS: '6' } })
    await linkByQr(product, sim, { sessionId: 'later', phone: owner.phone })
    const texts = () => sim.receivedStatuses(contact.phone).map((s) => s.text)

    // On time: sent by the connector, recorded as done with the status it became.
    const onTime = await scheduleIn(product, 1_500, 'on time', contact.phone)
    expect(texts()).toEqual([])
    await vi.waitFor(() => expect(texts()).toEqual(['on time']), EVENTUALLY)
    await vi.waitFor(
      async () => expect(await scheduledOf(product, onTime)).toMatchObject({ state: 'done', sentCount: 1 }),
      EVENTUALLY,
    )
    const listed = (await product.api.get<{ id: string }[]>('/api/sessions/later/sent-statuses')).data
    expect(listed.map((s) => s.id)).toContain((await scheduledOf(product, onTime))?.lastStatusId)

    // The product is down over the time of these: the downtime is the scenario, so it is waited
    // out by the clock. Each is scheduled far enough ahead that the product is down before.
    const downUntil = (at: number) =>
      new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))
    const dataDir = product.dataDir

    // Due while the product is down, back within the grace: sent on return, once.
    const dueAt = Date.now() + 3_000
    const afterRestart = await scheduleIn(product, 3_000, 'after restart', contact.phone)
    await product.stop()
    expect(texts()).toEqual(['on time'])
    await downUntil(dueAt + 1_000)
    product = await bed.startProduct({ dataDir, env: { SCHEDULE_GRACE_SECONDS: '6' } })
    await vi.waitFor(() => expect(texts()).toEqual(['on time', 'after restart']), {
      ...EVENTUALLY,
      timeout: 20_000,
    })
    expect(await scheduledOf(product, afterRestart)).toMatchObject({ state: 'done', sentCount: 1 })

    // Due while down, back after the grace: missed, never sent.
    const missedAt = Date.now() + 3_000
    const missed = await scheduleIn(product, 3_000, 'too late', contact.phone)
    await product.stop()
    await downUntil(missedAt + 6_000 + 1_500)
    product = await bed.startProduct({ dataDir, env: { SCHEDULE_GRACE_SECONDS: '6' } })
    await vi.waitFor(
      async () => expect((await scheduledOf(product, missed))?.state).toBe('missed'),
      EVENTUALLY,
    )
    expect(texts()).toEqual(['on time', 'after restart'])
  }, 90_000)
})
