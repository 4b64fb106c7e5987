import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import QRCode from 'qrcode'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WaSimulator } from '../tests/sim/server.js'
import { createHarness, type Harness } from './test-harness.js'

/**
 * The connector with real Baileys sockets (the default factory) against the protocol simulator:
 * proves the runtime works unmodified, not only against the test double.
 */
describe('connector with real Baileys against the simulator', () => {
  let sim: WaSimulator
  let h: Harness
  const eventually = { timeout: 15_000 }

  beforeEach(async () => {
    sim = await WaSimulator.start({ controlPort: false })
  })

  afterEach(async () => {
    await h?.cleanup()
    await sim.stop()
  })

  const linkedSession = async () => {
    const owner = sim.createAccount({ phone: '15550001111' })
    h = await createHarness({
      env: { WA_WS_URL: sim.wsUrl, STATUS_ACK_TIMEOUT_MS: '5000' },
      deps: {
        socketFactory: undefined,
        socketOptions: { fetchAgent: new Agent({ ca: readFileSync(sim.caCertPath) }) },
      },
    })
    const session = await h.addSession({ phoneNumber: owner.phone })
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    await vi.waitFor(() => expect(h.eventsOf('pairing-code', session.id)).toHaveLength(1), eventually)
    await sim.enterPairingCode(owner.phone, h.eventsOf('pairing-code', session.id)[0]?.pairingCode ?? '')
    await vi.waitFor(
      async () => expect((await h.repos.sessions.get(session.id))?.state).toBe('open'),
      eventually,
    )
    return { owner, sessionId: session.id }
  }

  it('links by pairing code, posts statuses acknowledged by the server and records LID viewers', async () => {
    const { owner, sessionId } = await linkedSession()
    expect(await h.repos.sessions.get(sessionId)).toMatchObject({
      ownNumber: owner.phone,
      ownLid: `${owner.lid}@lid`,
    })
    const contact = sim.createAccount({ phone: '15550002222', devices: 2 })

    const reply = await h.bus.send(sessionId, 'status.send', {
      sessionId,
      type: 'text',
      content: 'hello',
      targetNumbers: [contact.phone],
      backgroundColor: '#315575',
      font: 1,
    })
    expect(reply.contactCount).toBe(1)
    await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), eventually)
    expect(sim.receivedStatuses(contact.phone)[0]).toMatchObject({
      id: reply.waMessageId,
      text: 'hello',
      font: 1,
    })
    expect(sim.receivedStatuses(owner.phone).map((s) => s.id)).toContain(reply.waMessageId)

    await sim.view(contact.phone, owner.phone, reply.waMessageId, { asLid: true })
    await vi.waitFor(
      async () => expect(await h.repos.viewers.list(sessionId, reply.statusId)).toHaveLength(1),
      eventually,
    )
    expect((await h.repos.viewers.list(sessionId, reply.statusId))[0]).toMatchObject({
      jid: `${contact.phone}@s.whatsapp.net`,
      lid: `${contact.lid}@lid`,
      isReal: true,
    })
  })

  it('uploads image statuses, and reports a refused status as failed', async () => {
    const { owner, sessionId } = await linkedSession()
    const contact = sim.createAccount({ phone: '15550002222' })
    const name = '1750000000000-abcdef.png'
    const png = await QRCode.toBuffer('image status')
    await h.media.put(
      name,
      (async function* () {
        yield png
      })(),
      { maxBytes: 1_000_000, contentType: 'image/png' },
    )
    const reply = await h.bus.send(sessionId, 'status.send', {
      sessionId,
      type: 'image',
      content: name,
      caption: 'a picture',
      targetNumbers: [contact.phone],
    })
    await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), eventually)
    const received = sim.receivedStatuses(contact.phone)[0]
    expect(received).toMatchObject({ id: reply.waMessageId, kind: 'image', caption: 'a picture' })
    if (received) expect(Buffer.compare(await sim.statusMedia(received), png)).toBe(0)

    sim.setStatusAck(owner.phone, { error: 479 })
    await expect(
      h.bus.send(sessionId, 'status.send', { sessionId, type: 'text', content: 'no', targetNumbers: [] }),
    ).rejects.toMatchObject({ code: 'unavailable', message: 'WhatsApp rejected the status (error 479)' })
  })

  it('reconnects after a dropped connection and stays down after a logout', async () => {
    const { owner, sessionId } = await linkedSession()
    await sim.kick(owner.phone, 'drop')
    const statuses = () => h.eventsOf('connection-status', sessionId).map((e) => e.status)
    await vi.waitFor(() => expect(statuses()).toContain('reconnecting'), eventually)
    await vi.waitFor(() => expect(statuses().at(-1)).toBe('open'), eventually)

    await sim.kick(owner.phone, 'logout')
    await vi.waitFor(
      async () => expect((await h.repos.sessions.get(sessionId))?.state).toBe('logged_out'),
      eventually,
    )
    const creds = await h.db.client.execute({
      sql: 'SELECT COUNT(*) AS n FROM wa_auth_creds WHERE session_id = ?',
      args: [sessionId],
    })
    expect(Number(creds.rows[0]?.n)).toBe(0)
  })
})
