import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import type { StatusView } from '../../shared/schemas.js'
import type { SimAccount } from '../sim/accounts.js'
import { EVENTUALLY, linkByQr, type Product, startTestbed, type Testbed } from './harness.js'

const ACK_TIMEOUT_MS = 1_000

describe('status sends WhatsApp does not confirm', () => {
  const sessionId = 'unlucky'
  let bed: Testbed
  let product: Product
  let owner: SimAccount
  let contact: SimAccount

  beforeAll(async () => {
    bed = await startTestbed()
    owner = bed.sim.createAccount({ phone: '15550005001' })
    contact = bed.sim.createAccount({ phone: '15550005002' })
    product = await bed.startProduct({ env: { STATUS_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS) } })
    await linkByQr(product, bed.sim, { sessionId, phone: owner.phone })
  })

  afterAll(async () => {
    await bed?.close()
  })

  const send = (content: string) =>
    product.api.post<{ statusId: string }>(`/api/sessions/${sessionId}/send-status`, {
      type: 'text',
      content,
      targetNumbers: contact.phone,
    })

  const listed = async () =>
    (await product.api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`)).data

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

  it('fails a send that WhatsApp never acknowledges once the ack timeout passes', async () => {
    const since = product.events.mark()
    bed.sim.setStatusAck(owner.phone, 'none')
    const started = Date.now()
    const unanswered = await send('into the void')
    expect(unanswered).toMatchObject({ status: 504, error: 'No acknowledgement from WhatsApp in time' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 50)

    const failed = (await listed()).find((s) => s.content === 'into the void')
    expect(failed).toMatchObject({ state: 'failed', error: 'No acknowledgement from WhatsApp in time' })
    expect(await onlySentEventsAfter(since)).not.toContain(failed!.id)
  })
})

describe('connection failures', () => {
  let bed: Testbed
  let product: Product

  beforeEach(async () => {
    bed = await startTestbed()
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
    const result = await product.server.db.execute({
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
