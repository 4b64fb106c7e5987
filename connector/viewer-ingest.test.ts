import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Repositories } from '../shared/db/types.js'
import { createHarness, type Harness, type HarnessOptions } from './test-harness.js'

let h: Harness
afterEach(async () => {
  await h?.cleanup()
})

const OWN = '15550001111'
const OWN_LID = '99887766'

/** An open session with one sent (acked) status; returns its ids. */
const sentStatus = async (options: HarnessOptions = {}) => {
  h = await createHarness(options)
  const session = await h.addSession({ phoneNumber: OWN })
  const { second: sock } = await h.linkAndOpen(session.id, { number: OWN, lid: OWN_LID })
  const postStatus = async () => {
    const before = sock.sent.length
    const reply = h.bus.send(session.id, 'status.send', {
      sessionId: session.id,
      type: 'text',
      content: 'hi',
      targetNumbers: [],
    })
    await vi.waitFor(() => expect(sock.sent.length).toBe(before + 1))
    sock.ack(sock.sent[before]?.options?.messageId ?? '')
    return reply
  }
  const { statusId, waMessageId } = await postStatus()
  return { sessionId: session.id, statusId, waMessageId, sock, postStatus }
}

describe('status viewers', () => {
  it('records a phone-number viewer and announces new and full viewer lists', async () => {
    const { sessionId, statusId, waMessageId, sock } = await sentStatus()
    sock.viewReceipt({ id: waMessageId, participant: '15550002222@s.whatsapp.net', t: 1_700_000_000 })

    await vi.waitFor(() => expect(h.eventsOf('status-viewers-update', sessionId)).toHaveLength(1))
    const viewer = {
      jid: '15550002222@s.whatsapp.net',
      number: '15550002222',
      lid: null,
      viewedAt: new Date(1_700_000_000_000).toISOString(),
      isReal: true,
    }
    expect(h.eventsOf('status-viewers-update', sessionId)[0]).toEqual({
      sessionId,
      statusId,
      viewers: [viewer],
      newViewers: [viewer],
    })
    expect(await h.repos.viewers.list(sessionId, statusId)).toHaveLength(1)
  })

  it('resolves LID viewers from participant_pn, Baileys, or stored pairs; keeps unknown LIDs as not real', async () => {
    const { sessionId, statusId, waMessageId, sock } = await sentStatus()
    h.wa.lidMapping.lidByNumber.set('15550003333', '333')
    await h.repos.lidMap.upsertMany(sessionId, [{ lid: '444@lid', pn: '15550004444' }])

    sock.viewReceipt({
      id: waMessageId,
      participant: '222:5@lid',
      participantPn: '15550002222@s.whatsapp.net',
    })
    sock.viewReceipt({ id: waMessageId, participant: '333@lid' })
    sock.viewReceipt({ id: waMessageId, participant: '444@lid' })
    sock.viewReceipt({ id: waMessageId, participant: '555@lid' })

    await vi.waitFor(async () => expect(await h.repos.viewers.list(sessionId, statusId)).toHaveLength(4))
    const byLid = Object.fromEntries(
      (await h.repos.viewers.list(sessionId, statusId)).map((v) => [
        v.lid,
        { jid: v.jid, number: v.number, isReal: v.isReal },
      ]),
    )
    expect(byLid).toEqual({
      '222@lid': { jid: '15550002222@s.whatsapp.net', number: '15550002222', isReal: true },
      '333@lid': { jid: '15550003333@s.whatsapp.net', number: '15550003333', isReal: true },
      '444@lid': { jid: '15550004444@s.whatsapp.net', number: '15550004444', isReal: true },
      '555@lid': { jid: '555@lid', number: null, isReal: false },
    })
    // The participant_pn pair is kept for later (another status, a restart).
    await vi.waitFor(async () =>
      expect(Object.fromEntries(await h.repos.lidMap.getPnForLids(sessionId, ['222@lid']))).toEqual({
        '222@lid': '15550002222',
      }),
    )
  })

  it('keeps the first view and ignores delivery-only, own and foreign receipts', async () => {
    const { sessionId, statusId, waMessageId, sock } = await sentStatus()
    sock.viewReceipt({ id: waMessageId, participant: '15550002222@s.whatsapp.net', t: 1_700_000_100 })
    sock.viewReceipt({ id: waMessageId, participant: '15550002222@s.whatsapp.net', t: 1_700_000_050 })
    sock.viewReceipt({ id: waMessageId, participant: '15550003333@s.whatsapp.net', type: 'delivery' })
    sock.viewReceipt({ id: waMessageId, participant: `${OWN}:2@s.whatsapp.net` })
    sock.viewReceipt({ id: waMessageId, participant: `${OWN_LID}:2@lid` })
    sock.viewReceipt({ id: 'NOT-OUR-STATUS', participant: '15550004444@s.whatsapp.net' })
    await vi.waitFor(() => expect(h.eventsOf('status-viewers-update', sessionId)).toHaveLength(1))

    // A later receipt from the same viewer changes nothing and announces nothing.
    sock.viewReceipt({ id: waMessageId, participant: '15550002222@s.whatsapp.net', t: 1_700_000_000 })
    sock.viewReceipt({ id: waMessageId, participant: '15550005555@s.whatsapp.net', t: 1_700_000_200 })
    await vi.waitFor(() => expect(h.eventsOf('status-viewers-update', sessionId)).toHaveLength(2))

    const viewers = await h.repos.viewers.list(sessionId, statusId)
    expect(viewers.map((v) => [v.number, v.viewedAt])).toEqual([
      ['15550002222', 1_700_000_050_000],
      ['15550005555', 1_700_000_200_000],
    ])
    expect(h.eventsOf('status-viewers-update', sessionId)[1]?.newViewers.map((v) => v.number)).toEqual([
      '15550005555',
    ])
  })

  it('reads receipts folded into a buffered upsert of the status', async () => {
    const { sessionId, statusId, waMessageId, sock } = await sentStatus()
    sock.ev.emit('messages.upsert', {
      type: 'append',
      messages: [
        {
          key: { remoteJid: 'status@broadcast', id: waMessageId, fromMe: true },
          userReceipt: [
            { userJid: '15550002222@s.whatsapp.net', readTimestamp: 1_700_000_000 },
            { userJid: '15550003333@s.whatsapp.net', receiptTimestamp: 1_700_000_000 },
          ],
        },
      ],
    })
    await vi.waitFor(async () => expect(await h.repos.viewers.list(sessionId, statusId)).toHaveLength(1))
  })

  it('ingests a burst of 5,000 receipts in bounded batched writes and one event per status per flush', async () => {
    const { sessionId, waMessageId, sock, postStatus } = await sentStatus({
      deps: { ingest: { maxBatch: 2_000, flushDelayMs: 10, sliceSize: 500 } },
    })
    const second = await postStatus()
    const recordMany = vi.spyOn(h.repos.viewers as Repositories['viewers'], 'recordMany')

    for (let i = 0; i < 5_000; i++) {
      const statusMessageId = i % 2 ? waMessageId : second.waMessageId
      sock.viewReceipt({
        id: statusMessageId,
        participant: `1666${String(i).padStart(7, '0')}@s.whatsapp.net`,
      })
    }

    const counts = async () => {
      const stats = await h.repos.statuses.listActive(sessionId, Date.now())
      return stats.map((s) => s.viewerCount).sort()
    }
    await vi.waitFor(async () => expect(await counts()).toEqual([2_500, 2_500]))
    // Every write is one slice at most; 5,000 rows take ten of them, plus a partial one per flush.
    expect(recordMany.mock.calls.every(([rows]) => rows.length <= 500)).toBe(true)
    expect(recordMany.mock.calls.length).toBeGreaterThanOrEqual(10)
    expect(recordMany.mock.calls.length).toBeLessThanOrEqual(14)
    const events = h.eventsOf('status-viewers-update', sessionId)
    // Each flush (at most four of 2,000 or fewer) announces each status it touched once.
    expect(events.length).toBeLessThanOrEqual(8)
    const total = events.reduce((sum, e) => sum + e.newViewers.length, 0)
    expect(total).toBe(5_000)
    // The last event of each status carries its complete list, in the stored order.
    for (const statusId of new Set(events.map((e) => e.statusId))) {
      const last = events.filter((e) => e.statusId === statusId).at(-1)
      const stored = await h.repos.viewers.list(sessionId, statusId)
      expect(last?.viewers.map((v) => v.jid)).toEqual(stored.map((v) => v.jid))
    }
  })
})
