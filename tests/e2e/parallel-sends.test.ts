import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { StatusView } from '../../shared/schemas.js'
import type { SimAccount } from '../sim/accounts.js'
import { linkByQr, MODES, type Product, startTestbed, type Testbed } from './harness.js'

const SENDS = 50

describe.each(MODES)('many status sends at once (%s)', (mode) => {
  const sessionId = 'busy'
  let bed: Testbed
  let product: Product
  let owner: SimAccount
  let contact: SimAccount

  beforeAll(async () => {
    bed = await startTestbed({ mode })
    owner = bed.sim.createAccount({ phone: '15550008001' })
    contact = bed.sim.createAccount({ phone: '15550008002' })
    product = await bed.startProduct()
    await linkByQr(product, bed.sim, { sessionId, phone: owner.phone })
  })

  afterAll(async () => {
    await bed?.close()
  })

  it(`gives ${SENDS} parallel sends their own verdicts without a MaxListenersExceededWarning`, async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      // Acks a little late, so every send is waiting for its verdict at the same time.
      bed.sim.setStatusAck(owner.phone, { delayMs: 500 })
      const replies = await Promise.all(
        Array.from({ length: SENDS }, (_, i) =>
          product.api.post<{ statusId: string; waMessageId: string }>(
            `/api/sessions/${sessionId}/send-status`,
            {
              type: 'text',
              content: `parallel ${i}`,
              targetNumbers: contact.phone,
            },
          ),
        ),
      )

      expect(replies.map((r) => r.status)).toEqual(Array(SENDS).fill(200))
      const stanzas = bed.sim.sentStanzas(owner.phone)
      expect(stanzas).toHaveLength(SENDS)
      // Each answer names its own stanza: no verdict went to the wrong send.
      const ids = replies.map((r) => r.data.waMessageId)
      expect(new Set(ids).size).toBe(SENDS)
      expect(new Set(stanzas.map((s) => s.id))).toEqual(new Set(ids))
      const listed = (await product.api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`)).data
      for (const [i, reply] of replies.entries()) {
        expect(listed.find((s) => s.id === reply.data.statusId)).toMatchObject({
          content: `parallel ${i}`,
          waMessageId: reply.data.waMessageId,
          state: 'sent',
        })
      }
      // Acked before it is delivered (as WhatsApp does): the last may reach the contact a moment later.
      await vi.waitFor(() => expect(bed.sim.receivedStatuses(contact.phone)).toHaveLength(SENDS), {
        timeout: 10_000,
        interval: 20,
      })
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual(
        [],
      )
    } finally {
      process.off('warning', onWarning)
      bed.sim.setStatusAck(owner.phone, 'ok')
    }
  })
})
