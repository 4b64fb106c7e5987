import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import type { StatusView } from '../../shared/schemas.js'
import type { SimAccount } from '../sim/accounts.js'
import { EVENTUALLY, linkByQr, MODES, type Product, startTestbed, type Testbed } from './harness.js'

const ACK_TIMEOUT_MS = 1_000
/** Longer than the ack timeout: a slow preparation must not eat into it. */
const PREPARE_TIMEOUT_MS = 2_500
/** From the start of a send to giving up on a late ack. */
const FINAL_TIMEOUT_MS = 4_000

describe.each(MODES)('status sends WhatsApp does not confirm (%s)', (mode) => {
  const sessionId = 'unlucky'
  let bed: Testbed
  let product: Product
  let owner: SimAccount
  let contact: SimAccount

  beforeAll(async () => {
    bed = await startTestbed({ mode })
    owner = bed.sim.createAccount({ phone: '15550005001' })
    contact = bed.sim.createAccount({ phone: '15550005002' })
    product = await bed.startProduct({
      env: {
        STATUS_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
        STATUS_PREPARE_TIMEOUT_MS: String(PREPARE_TIMEOUT_MS),
        STATUS_ACK_FINAL_TIMEOUT_MS: String(FINAL_TIMEOUT_MS),
      },
    })
    await linkByQr(product, bed.sim, { sessionId, phone: owner.phone })
  })

  afterAll(async () => {
    await bed?.close()
  })

  const send = (content: string, targets: SimAccount[] = [contact]) =>
    product.api.post<{ statusId: string; waMessageId: string }>(`/api/sessions/${sessionId}/send-status`, {
      type: 'text',
      content,
      targetNumbers: targets.map((t) => t.phone).join(','),
    })

  const listed = async () =>
    (await product.api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`)).data

  const listedAs = async (content: string) => (await listed()).find((s) => s.content === content)

  /**
   * An event the product did not emit cannot be waited for; a later send that succeeds can. Once
   * its `status-sent` is here, any `status-sent` of the failed send would have arrived before it.
   */
  const onlySentEventsAfter = async (since: number) => {
    bed.sim.setStatusAck(owner.phone, 'ok')
    const witness = await send('this one goes through')
    expect(witness.status).toBe(200)
    await product.events.waitFor('status-sent', { sessionId, since })
    return product.events.of('status-sent', { sessionId, since }).map((e) => e.statusId)
  }

  it('reports a status WhatsApp rejects (error 479) as failed, never as sent', async () => {
    const since = product.events.mark()
    bed.sim.setStatusAck(owner.phone, { error: 479 })
    const rejected = await send('refused by the server')
    expect(rejected).toMatchObject({ status: 503, error: 'WhatsApp rejected the status (error 479)' })

    const failed = (await listed()).find((s) => s.content === 'refused by the server')
    expect(failed).toMatchObject({ state: 'failed', error: 'WhatsApp rejected the status (error 479)' })
    expect(await onlySentEventsAfter(since)).not.toContain(failed!.id)
  })

  it('answers 504 for a send WhatsApp never acknowledges, keeps it pending, then fails it at the final bound', async () => {
    const since = product.events.mark()
    bed.sim.setStatusAck(owner.phone, 'none')
    const started = Date.now()
    const unanswered = await send('into the void')
    expect(unanswered).toMatchObject({ status: 504, error: 'No acknowledgement from WhatsApp in time' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 50)

    // A late ack could still come: not failed yet, and the list says why it is pending.
    expect(await listedAs('into the void')).toMatchObject({
      state: 'pending',
      error: 'No acknowledgement from WhatsApp in time; a late acknowledgement can still mark it sent',
    })
    const failed = await vi.waitFor(async () => {
      const status = await listedAs('into the void')
      expect(status).toMatchObject({ state: 'failed', error: 'No acknowledgement from WhatsApp in time' })
      return status!
    }, EVENTUALLY)
    expect(Date.now() - started).toBeGreaterThanOrEqual(FINAL_TIMEOUT_MS - 100)
    expect(await onlySentEventsAfter(since)).not.toContain(failed.id)
  })

  it('marks a status sent, with its status-sent event, when the ack comes after the 504', async () => {
    bed.sim.setStatusAck(owner.phone, { delayMs: ACK_TIMEOUT_MS + 1_000 })
    const since = product.events.mark()
    const late = await send('acknowledged late')
    expect(late).toMatchObject({ status: 504, error: 'No acknowledgement from WhatsApp in time' })
    const pending = await listedAs('acknowledged late')
    expect(pending?.state).toBe('pending')
    // The stanza reached WhatsApp: the contact has it although the answer was a 504.
    expect(bed.sim.receivedStatuses(contact.phone).map((s) => s.text)).toContain('acknowledged late')

    const event = await product.events.waitFor('status-sent', {
      sessionId,
      since,
      where: (e) => e.statusId === pending!.id,
    })
    expect(event).toMatchObject({ content: 'acknowledged late', waMessageId: pending!.waMessageId })
    expect(await listedAs('acknowledged late')).toMatchObject({ state: 'sent', error: null })
    expect(
      product.events.of('statuses-updated', { sessionId, since, where: (e) => e.action === 'sent' }),
    ).not.toHaveLength(0)
    bed.sim.setStatusAck(owner.phone, 'ok')
  })

  it('does not count a slow preparation (device and key queries) against the ack timeout', async () => {
    // Contacts never sent to before: Baileys asks for their devices and keys, each answer late.
    const fresh = [1, 2, 3].map((i) => bed.sim.createAccount({ phone: `1555000510${i}` }))
    bed.sim.setStatusAck(owner.phone, 'ok')
    bed.sim.setQueryDelay(owner.phone, 700)
    try {
      const started = Date.now()
      const sent = await send('worth the wait', fresh)
      const took = Date.now() - started
      expect(sent.status).toBe(200)
      // Longer than the ack timeout, all of it before the stanza was written.
      expect(took).toBeGreaterThan(ACK_TIMEOUT_MS + 200)
      expect(await listedAs('worth the wait')).toMatchObject({ state: 'sent' })
      for (const account of fresh) {
        expect(bed.sim.receivedStatuses(account.phone).map((s) => s.text)).toEqual(['worth the wait'])
      }
    } finally {
      bed.sim.setQueryDelay(owner.phone, 0)
    }
  })
})

describe.each(MODES)('connection failures (%s)', (mode) => {
  let bed: Testbed
  let product: Product

  beforeEach(async () => {
    bed = await startTestbed({ mode })
    product = await bed.startProduct()
  })

  afterEach(async () => {
    await bed?.close()
  })

  const linked = async (sessionId: string, phone: string) => {
    const owner = bed.sim.createAccount({ phone })
    await linkByQr(product, bed.sim, { sessionId, phone })
    return owner
  }

  const connectionStatus = async (sessionId: string) =>
    (await product.api.get(`/api/sessions/${sessionId}/connection-status`)).data

  const countRows = async (table: 'wa_auth_creds' | 'wa_auth_keys', sessionId: string) => {
    const result = await product.db.execute({
      sql: `SELECT COUNT(*) AS n FROM ${table} WHERE session_id = ?`,
      args: [sessionId],
    })
    return Number(result.rows[0]?.n)
  }

  it('marks the session logged out and wipes its creds when the phone unlinks it', async () => {
    const owner = await linked('unlinked', '15550005101')
    expect(await countRows('wa_auth_creds', 'unlinked')).toBe(1)
    const since = product.events.mark()

    await bed.sim.kick(owner.phone, 'logout')
    const event = await product.events.waitFor('connection-status', {
      sessionId: 'unlinked',
      since,
      where: (e) => e.status === 'logged_out',
    })
    expect(event).toMatchObject({ connected: false, ownNumber: null })
    expect(event.error).toMatch(/401/)
    expect(await connectionStatus('unlinked')).toMatchObject({
      connected: false,
      status: 'logged_out',
      ownNumber: null,
    })
    expect(await countRows('wa_auth_creds', 'unlinked')).toBe(0)
    expect(await countRows('wa_auth_keys', 'unlinked')).toBe(0)
    expect(
      await product.api.post('/api/sessions/unlinked/send-status', { type: 'text', content: 'x' }),
    ).toMatchObject({ status: 409, error: Messages.notConnected })

    // Nothing to log in with: linking starts over when the user asks for it.
    const relink = product.events.mark()
    expect((await product.api.post('/api/sessions/unlinked/restart')).status).toBe(200)
    await product.events.waitFor('qr-code', { sessionId: 'unlinked', since: relink })
    expect(bed.sim.linkedDevices(owner.phone)).toEqual([])
  })

  it('stays down when another client replaces the connection, without a reconnect loop', async () => {
    const replaced = await linked('replaced', '15550005201')
    const witness = await linked('witness', '15550005202')

    await bed.sim.kick(replaced.phone, 'replaced')
    const event = await product.events.waitFor('connection-status', {
      sessionId: 'replaced',
      where: (e) => e.status === 'replaced',
    })
    expect(event).toMatchObject({ connected: false })
    expect(event.error).toMatch(/440/)

    // A dropped session in the same product goes through backoff and reconnects; by the time it
    // is back, a looping session would have reconnected too.
    const since = product.events.mark()
    await bed.sim.kick(witness.phone, 'drop')
    await product.events.waitFor('connection-status', {
      sessionId: 'witness',
      since,
      where: (e) => e.connected,
    })
    expect(product.events.of('connection-status', { sessionId: 'replaced', since })).toEqual([])
    expect(bed.sim.isOnline(replaced.phone)).toBe(false)
    expect(await connectionStatus('replaced')).toMatchObject({ connected: false, status: 'replaced' })

    // The user decides to take the session back.
    expect((await product.api.post('/api/sessions/replaced/restart')).status).toBe(200)
    await product.events.waitFor('connection-status', {
      sessionId: 'replaced',
      since,
      where: (e) => e.connected,
    })
    expect(bed.sim.isOnline(replaced.phone)).toBe(true)
  })

  it('reconnects by itself when WhatsApp restarts, and sends again', async () => {
    const owner = await linked('resilient', '15550005301')
    const contact = bed.sim.createAccount({ phone: '15550005302' })
    const since = product.events.mark()

    await bed.sim.restart()
    await product.events.waitFor('connection-status', {
      sessionId: 'resilient',
      since,
      where: (e) => e.status === 'reconnecting',
    })
    await product.events.waitFor('connection-status', {
      sessionId: 'resilient',
      since,
      where: (e) => e.connected,
    })
    expect(bed.sim.isOnline(owner.phone)).toBe(true)

    const sent = await product.api.post('/api/sessions/resilient/send-status', {
      type: 'text',
      content: 'still here',
      targetNumbers: contact.phone,
    })
    expect(sent.status).toBe(200)
    await vi.waitFor(
      () => expect(bed.sim.receivedStatuses(contact.phone).map((s) => s.text)).toEqual(['still here']),
      EVENTUALLY,
    )
  })
})
