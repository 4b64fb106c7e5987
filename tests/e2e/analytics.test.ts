import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EVENTUALLY, linkByQr, MODES, startTestbed, type Testbed } from './harness.js'

/**
 * Reach of a status, its viewers a page at a time and as CSV, from real views the simulated
 * contacts send, in both deployments.
 */
describe.each(MODES)('status analytics (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('reports reach and who has not viewed, pages the viewers and exports them as CSV', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550009001' })
    const contacts = ['15550009002', '15550009003', '15550009004'].map((phone) =>
      sim.createAccount({ phone }),
    )
    const product = await bed.startProduct()
    await linkByQr(product, sim, { sessionId: 'reach', phone: owner.phone })
    const sent = await product.api.post<{ statusId: string; waMessageId: string }>(
      '/api/sessions/reach/send-status',
      { type: 'text', content: 'Who sees this?', targetNumbers: contacts.map((c) => c.phone).join(',') },
    )
    expect(sent.status).toBe(200)
    const { statusId, waMessageId } = sent.data
    for (const contact of contacts) {
      await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
    }
    const [first, second] = contacts
    await sim.view(first!.phone, owner.phone, waMessageId)
    await sim.view(second!.phone, owner.phone, waMessageId)

    const analytics = await vi.waitFor(async () => {
      const answer = await product.api.get<Record<string, unknown>>(
        `/api/sessions/reach/analytics/statuses/${statusId}`,
      )
      expect(answer.data).toMatchObject({ viewerCount: 2 })
      return answer.data
    }, EVENTUALLY)
    expect(analytics).toMatchObject({
      statusId,
      audienceSize: 3,
      viewerCount: 2,
      reachPercent: 66.7,
      notViewed: [contacts[2]!.phone],
      unresolvedViewers: 0,
    })
    const points = (analytics.viewsOverTime as { points: { views: number; total: number }[] }).points
    expect(points.at(-1)?.total).toBe(2)
    expect(points.reduce((sum, point) => sum + point.views, 0)).toBe(2)

    // A page at a time, one viewer per page, gives the same viewers as the whole list.
    const whole = (
      await product.api.get<{ number: string }[]>(`/api/sessions/reach/status-viewers/${statusId}`)
    ).data
    const paged: { number: string }[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
      const response = await fetch(
        `${product.api.baseUrl}/api/sessions/reach/status-viewers/${statusId}?limit=1${query}`,
        { headers: { 'x-api-key': product.apiKey } },
      )
      const page = (await response.json()) as { data: { number: string }[]; nextCursor: string | null }
      paged.push(...page.data)
      cursor = page.nextCursor
    } while (cursor)
    expect(paged).toEqual(whole)

    // Across statuses: who views, and today's totals.
    const contactsAnswer = await product.api.get<{
      contacts: { number: string; received: number; viewed: number }[]
    }>('/api/sessions/reach/analytics/contacts?sort=least-viewed')
    expect(
      contactsAnswer.data.contacts.map(({ number, received, viewed }) => ({ number, received, viewed })),
    ).toEqual([
      { number: contacts[2]!.phone, received: 1, viewed: 0 },
      ...[first!.phone, second!.phone].sort().map((number) => ({ number, received: 1, viewed: 1 })),
    ])
    const daily = await product.api.get<{
      days: { statusesSent: number; views: number; uniqueViewers: number }[]
    }>('/api/sessions/reach/analytics/daily?days=1')
    expect(daily.data.days).toEqual([
      expect.objectContaining({ statusesSent: 1, audience: 3, views: 2, uniqueViewers: 2 }),
    ])

    const csv = await fetch(`${product.api.baseUrl}/api/sessions/reach/status-viewers/${statusId}`, {
      headers: { 'x-api-key': product.apiKey, accept: 'text/csv' },
    })
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const rows = (await csv.text()).trimEnd().split('\r\n')
    expect(rows[0]).toBe('number,lid,jid,viewedAt')
    expect(
      rows
        .slice(1)
        .map((row) => row.split(',')[0])
        .sort(),
    ).toEqual([first!.phone, second!.phone].sort())
  })
})
