import type { BinaryNode, MessageUserReceiptUpdate, WASocket } from '@whiskeysockets/baileys'
import { describe, expect, it, vi } from 'vitest'
import { closeClient, connectClient, eventually, linkByQr, useSimulator, waitOpen } from './test-clients.js'

/** Viewer JIDs from message-receipt.update events and from receipts folded into buffered upserts. */
function collectViewers(sock: WASocket): { userJid: string; id: string }[] {
  const seen: { userJid: string; id: string }[] = []
  sock.ev.on('message-receipt.update', (updates: MessageUserReceiptUpdate[]) => {
    for (const { key, receipt } of updates) {
      if (receipt.readTimestamp && receipt.userJid) seen.push({ userJid: receipt.userJid, id: key.id ?? '' })
    }
  })
  sock.ev.on('messages.upsert', ({ messages }) => {
    for (const m of messages) {
      for (const r of m.userReceipt ?? [])
        if (r.readTimestamp && r.userJid) seen.push({ userJid: r.userJid, id: m.key.id! })
    }
  })
  return seen
}

function collectRawReceipts(sock: WASocket): BinaryNode[] {
  const nodes: BinaryNode[] = []
  sock.ws.on('CB:receipt', (node: BinaryNode) => nodes.push(node))
  return nodes
}

describe('status views against real Baileys', () => {
  const run = useSimulator()

  async function postStatus() {
    const owner = run.sim.createAccount({ phone: '15550005001' })
    const viewer = run.sim.createAccount({ phone: '15550005002' })
    const client = await linkByQr(run.sim, owner.phone)
    run.sockets.push(client.sock)
    const sent = await client.sock.sendMessage(
      'status@broadcast',
      { text: 'watch me' },
      { statusJidList: [owner.pnJid(), viewer.pnJid()] },
    )
    return { owner, viewer, ...client, id: sent!.key.id! }
  }

  it('relays a read receipt by phone number right after the first login', async () => {
    const { owner, viewer, sock, id } = await postStatus()
    const viewers = collectViewers(sock)
    const result = await run.sim.view(viewer.phone, owner.phone, id)
    expect(result).toEqual({ delivered: 1, queued: 0 })
    await vi.waitFor(() => expect(viewers).toContainEqual({ userJid: viewer.pnJid(), id }), eventually)
  })

  it('addresses LID viewers by LID with participant_pn and addressing_mode', async () => {
    const { owner, viewer, sock, id } = await postStatus()
    const viewers = collectViewers(sock)
    const raw = collectRawReceipts(sock)
    await run.sim.view(viewer.phone, owner.phone, id, { type: 'played', asLid: true })
    await vi.waitFor(() => expect(raw).toHaveLength(1), eventually)
    expect(raw[0]!.attrs).toMatchObject({
      from: 'status@broadcast',
      id,
      type: 'played',
      participant: viewer.lidJid(),
      participant_pn: viewer.pnJid(),
      addressing_mode: 'lid',
    })
    await vi.waitFor(() => expect(viewers).toContainEqual({ userJid: viewer.lidJid(), id }), eventually)
  })

  it('delivers a burst of views', async () => {
    const { owner, sock, id } = await postStatus()
    const crowd = Array.from({ length: 25 }, (_, i) =>
      run.sim.createAccount({ phone: `1555001${String(i).padStart(4, '0')}` }),
    )
    const viewers = collectViewers(sock)
    const result = await run.sim.viewBurst(
      owner.phone,
      id,
      crowd.map((c) => c.phone),
    )
    expect(result.delivered).toBe(25)
    await vi.waitFor(() => expect(new Set(viewers.map((v) => v.userJid)).size).toBe(25), eventually)
  })

  it('holds views for an offline client and delivers them after it reconnects', async () => {
    const { owner, viewer, sock, auth, id } = await postStatus()
    closeClient(sock)
    await vi.waitFor(() => expect(run.sim.isOnline(owner.phone)).toBe(false), eventually)
    expect(await run.sim.view(viewer.phone, owner.phone, id)).toEqual({ delivered: 0, queued: 1 })

    const again = connectClient(run.sim, { auth })
    run.sockets.push(again)
    const viewers = collectViewers(again)
    const raw = collectRawReceipts(again)
    await waitOpen(again)
    await vi.waitFor(() => expect(viewers).toContainEqual({ userJid: viewer.pnJid(), id }), eventually)
    expect(raw[0]!.attrs.offline).toBe('1')
  })
})
