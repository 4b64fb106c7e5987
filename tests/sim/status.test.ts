import type { BinaryNode, WASocket } from '@whiskeysockets/baileys'
import { describe, expect, it, vi } from 'vitest'
import { eventually, linkByQr, useSimulator } from './test-clients.js'

/** Collects the raw `<ack class="message">` nodes a socket receives. */
function collectAcks(sock: WASocket): BinaryNode[] {
  const acks: BinaryNode[] = []
  sock.ws.on('CB:ack,class:message', (node: BinaryNode) => acks.push(node))
  return acks
}

describe('status sends against real Baileys', () => {
  const run = useSimulator()

  async function setup() {
    const owner = run.sim.createAccount({ phone: '15550003001' })
    const lidContact = run.sim.createAccount({ phone: '15550003002', devices: 2 })
    const pnContact = run.sim.createAccount({ phone: '15550003003' })
    const { sock } = await linkByQr(run.sim, owner.phone)
    run.sockets.push(sock)
    const audience = [owner.pnJid(), lidContact.pnJid(), pnContact.pnJid()]
    return { owner, lidContact, pnContact, sock, audience, acks: collectAcks(sock) }
  }

  it('acks the status and every contact device decrypts it, on first and later sends', async () => {
    const { owner, lidContact, pnContact, sock, audience, acks } = await setup()
    const first = await sock.sendMessage(
      'status@broadcast',
      { text: 'first status' },
      { statusJidList: audience, backgroundColor: '#315575', font: 1 },
    )
    await vi.waitFor(() => expect(acks.map((a) => a.attrs.id)).toContain(first!.key.id), eventually)
    const ack = acks.find((a) => a.attrs.id === first!.key.id)!
    expect(ack.attrs).toMatchObject({ class: 'message', from: 'status@broadcast' })
    expect(ack.attrs.error).toBeUndefined()

    await vi.waitFor(() => expect(run.sim.receivedStatuses(lidContact.phone)).toHaveLength(1), eventually)
    const received = run.sim.receivedStatuses(lidContact.phone)[0]!
    expect(received).toMatchObject({
      id: first!.key.id,
      from: owner.phone,
      kind: 'text',
      text: 'first status',
    })
    expect(received.backgroundColor).toBe('#315575')
    expect(received.font).toBe(1)
    expect(received.devices.sort()).toEqual([lidContact.pnJid(0), lidContact.pnJid(1)].sort())
    await vi.waitFor(
      () => expect(run.sim.receivedStatuses(pnContact.phone).map((s) => s.text)).toEqual(['first status']),
      eventually,
    )
    // the owner's own phone is in the audience too
    await vi.waitFor(
      () => expect(run.sim.receivedStatuses(owner.phone).map((s) => s.text)).toEqual(['first status']),
      eventually,
    )

    const second = await sock.sendMessage(
      'status@broadcast',
      { text: 'second status' },
      { statusJidList: audience },
    )
    await vi.waitFor(
      () =>
        expect(run.sim.receivedStatuses(pnContact.phone).map((s) => s.text)).toEqual([
          'first status',
          'second status',
        ]),
      eventually,
    )
    expect(run.sim.sentStanzas(owner.phone).map((s) => s.id)).toEqual([first!.key.id, second!.key.id])
    expect(run.sim.messages.decryptErrors).toEqual([])
    expect(run.sim.connectionErrors).toEqual([])
  })

  it('answers with a configured error ack and delivers nothing', async () => {
    const { owner, pnContact, sock, audience, acks } = await setup()
    // Baileys reports it as messages.update, or folds it into the still-buffered upsert
    const updates: { id?: string | null; params?: string[] | null }[] = []
    sock.ev.on('messages.update', (list) => {
      for (const u of list) updates.push({ id: u.key.id, params: u.update.messageStubParameters })
    })
    sock.ev.on('messages.upsert', ({ messages }) => {
      for (const m of messages) updates.push({ id: m.key.id, params: m.messageStubParameters })
    })
    run.sim.setStatusAck(owner.phone, { error: 479 })
    const sent = await sock.sendMessage('status@broadcast', { text: 'rejected' }, { statusJidList: audience })
    await vi.waitFor(
      () => expect(acks.find((a) => a.attrs.id === sent!.key.id)?.attrs.error).toBe('479'),
      eventually,
    )
    expect(run.sim.receivedStatuses(pnContact.phone)).toEqual([])
    await vi.waitFor(() => expect(updates).toContainEqual({ id: sent!.key.id, params: ['479'] }), eventually)
  })

  it('can withhold the ack entirely', async () => {
    const { owner, pnContact, sock, audience, acks } = await setup()
    run.sim.setStatusAck(owner.phone, 'none')
    const silent = await sock.sendMessage('status@broadcast', { text: 'no ack' }, { statusJidList: audience })
    await vi.waitFor(() => expect(run.sim.receivedStatuses(pnContact.phone)).toHaveLength(1), eventually)
    run.sim.setStatusAck(owner.phone, 'ok')
    const acked = await sock.sendMessage('status@broadcast', { text: 'acked' }, { statusJidList: audience })
    // acks arrive in order: once the later one is here, the earlier one is never coming
    await vi.waitFor(() => expect(acks.map((a) => a.attrs.id)).toContain(acked!.key.id), eventually)
    expect(acks.map((a) => a.attrs.id)).not.toContain(silent!.key.id)
  })

  it('acks late when told to, delivering the status at once', async () => {
    const { owner, pnContact, sock, audience, acks } = await setup()
    run.sim.setStatusAck(owner.phone, { delayMs: 600 })
    const sent = await sock.sendMessage('status@broadcast', { text: 'late ack' }, { statusJidList: audience })
    const written = Date.now()
    await vi.waitFor(() => expect(run.sim.receivedStatuses(pnContact.phone)).toHaveLength(1), eventually)
    await vi.waitFor(() => expect(acks.map((a) => a.attrs.id)).toContain(sent!.key.id), eventually)
    expect(Date.now() - written).toBeGreaterThanOrEqual(550)
    expect(acks.find((a) => a.attrs.id === sent!.key.id)?.attrs.error).toBeUndefined()
  })

  it('answers the device and key queries before a send late when told to', async () => {
    const { owner, sock, audience, acks } = await setup()
    run.sim.setQueryDelay(owner.phone, 400)
    const started = Date.now()
    // First send to these contacts: one device query and one key-bundle query, each 400 ms late.
    const sent = await sock.sendMessage('status@broadcast', { text: 'slow' }, { statusJidList: audience })
    expect(Date.now() - started).toBeGreaterThanOrEqual(750)
    await vi.waitFor(() => expect(acks.map((a) => a.attrs.id)).toContain(sent!.key.id), eventually)
  })

  it('delivers to an audience given by LID, as WhatsApp Web addresses status recipients', async () => {
    const { owner, lidContact, sock, acks } = await setup()
    const sent = await sock.sendMessage(
      'status@broadcast',
      { text: 'by lid' },
      { statusJidList: [owner.lidJid()!, lidContact.lidJid()!] },
    )
    await vi.waitFor(() => expect(acks.map((a) => a.attrs.id)).toContain(sent!.key.id), eventually)
    await vi.waitFor(() => expect(run.sim.receivedStatuses(lidContact.phone)).toHaveLength(1), eventually)
    expect(run.sim.receivedStatuses(lidContact.phone)[0]!.devices).toHaveLength(2)
    expect(run.sim.sentStanzas(owner.phone)[0]!.recipients).toContain(lidContact.lidJid(1))
  })

  it('reaches no device of a contact without LID: Baileys 7 fetches key bundles by LID only', async () => {
    const { sock, audience, pnContact, acks } = await setup()
    const noLid = run.sim.createAccount({ phone: '15550003004', lid: false })
    const sent = await sock.sendMessage(
      'status@broadcast',
      { text: 'partial' },
      { statusJidList: [...audience, noLid.pnJid()] },
    )
    await vi.waitFor(() => expect(acks.map((a) => a.attrs.id)).toContain(sent!.key.id), eventually)
    await vi.waitFor(() => expect(run.sim.receivedStatuses(pnContact.phone)).toHaveLength(1), eventually)
    expect(run.sim.sentStanzas('15550003001')[0]!.recipients).not.toContain(noLid.pnJid())
    expect(run.sim.receivedStatuses(noLid.phone)).toEqual([])
  })

  it('decrypts a revoke sent to the same audience', async () => {
    const { pnContact, sock, audience } = await setup()
    const sent = await sock.sendMessage(
      'status@broadcast',
      { text: 'to delete' },
      { statusJidList: audience },
    )
    const statusId = sent!.key.id
    // pass a copy: Baileys was seen rewriting the key object given to `delete`
    await sock.sendMessage('status@broadcast', { delete: { ...sent!.key } }, { statusJidList: audience })
    await vi.waitFor(
      () => expect(run.sim.receivedStatuses(pnContact.phone).map((s) => s.kind)).toEqual(['text', 'revoke']),
      eventually,
    )
    expect(run.sim.receivedStatuses(pnContact.phone)[1]!.revokedId).toBe(statusId)
  })
})
