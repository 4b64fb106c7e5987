import type { WASocket } from '@whiskeysockets/baileys'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { makeMemoryAuthState } from './memory-keys.js'
import { WaSimulator } from './server.js'
import { closeClient, connectClient, eventually, nextQr, waitClosed, waitOpen } from './test-clients.js'

describe('HTTP control API', () => {
  let sim: WaSimulator
  const sockets: WASocket[] = []

  beforeEach(async () => {
    sim = await WaSimulator.start()
  })

  afterEach(async () => {
    for (const sock of sockets.splice(0)) closeClient(sock)
    await sim.stop()
  })

  async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: ReturnType<typeof JSON.parse> }> {
    const res = await fetch(`${sim.controlUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, json: await res.json() }
  }

  it('reports its endpoints and rejects bad input', async () => {
    const health = await call('GET', '/health')
    expect(health.json).toEqual({
      ok: true,
      wsUrl: sim.wsUrl,
      uploadHost: sim.uploadHost,
      caCertPath: sim.caCertPath,
    })
    expect((await call('POST', '/accounts', { phone: 'abc' })).status).toBe(400)
    expect((await call('GET', '/nope')).status).toBe(404)
    expect((await call('PUT', '/accounts/15550007001/status-ack', { mode: 'ok' })).json.error).toMatch(
      /unknown account/,
    )
  })

  it('drives linking, a status, its views, an ack fault and a kick end to end', async () => {
    expect((await call('POST', '/accounts', { phone: '15550007001' })).status).toBe(200)
    const contact = (await call('POST', '/accounts', { phone: '15550007002', devices: 2 })).json
    expect(contact.lid).toMatch(/@lid$/)

    const auth = makeMemoryAuthState()
    const first = connectClient(sim, { auth })
    sockets.push(first)
    const restarted = waitClosed(first)
    const linked = await call('POST', '/accounts/15550007001/scan-qr', { qr: await nextQr(first) })
    expect(linked.json.jid).toMatch(/^15550007001:\d+@s\.whatsapp\.net$/)
    expect(await restarted).toBe(515)
    const sock = connectClient(sim, { auth })
    sockets.push(sock)
    await waitOpen(sock)
    expect((await call('GET', '/accounts')).json).toContainEqual(
      expect.objectContaining({ phone: '15550007001', linked: [expect.any(Number)] }),
    )

    const sent = await sock.sendMessage(
      'status@broadcast',
      { text: 'via control' },
      { statusJidList: ['15550007001@s.whatsapp.net', '15550007002@s.whatsapp.net'] },
    )
    await vi.waitFor(async () => {
      const statuses = (await call('GET', '/accounts/15550007002/statuses')).json
      expect(statuses).toEqual([
        expect.objectContaining({ id: sent!.key.id, text: 'via control', devices: expect.any(Array) }),
      ])
    }, eventually)
    expect((await call('GET', '/accounts/15550007001/sent')).json).toHaveLength(1)

    // Receipts that arrive while Baileys still buffers the status's own upsert are folded into it.
    const viewers: (string | null | undefined)[] = []
    sock.ev.on('message-receipt.update', (updates) => viewers.push(...updates.map((u) => u.receipt.userJid)))
    sock.ev.on('messages.upsert', ({ messages }) => {
      for (const m of messages) viewers.push(...(m.userReceipt ?? []).map((r) => r.userJid))
    })
    const view = await call('POST', '/views', {
      contact: '15550007002',
      owner: '15550007001',
      id: sent!.key.id,
    })
    expect(view.json).toEqual({ delivered: 1, queued: 0 })
    const burst = await call('POST', '/views/burst', {
      owner: '15550007001',
      id: sent!.key.id,
      viewers: ['15550007002'],
      asLid: true,
    })
    expect(burst.json.delivered).toBe(1)
    await vi.waitFor(
      () => expect([...viewers].sort()).toEqual(['15550007002@s.whatsapp.net', contact.lid].sort()),
      eventually,
    )

    await call('PUT', '/accounts/15550007001/status-ack', { mode: { error: 463 } })
    expect(sim.account('15550007001').statusAck).toEqual({ error: 463 })
    await call('PUT', '/accounts/15550007001/status-ack', { mode: { delayMs: 250 } })
    expect(sim.account('15550007001').statusAck).toEqual({ delayMs: 250 })
    expect((await call('PUT', '/accounts/15550007001/status-ack', { mode: { delayMs: -1 } })).status).toBe(
      400,
    )
    await call('PUT', '/accounts/15550007001/query-delay', { delayMs: 300 })
    expect(sim.account('15550007001').queryDelayMs).toBe(300)
    expect((await call('PUT', '/accounts/15550007001/query-delay', {})).status).toBe(400)

    const closed = waitClosed(sock)
    expect((await call('POST', '/accounts/15550007001/kick', { kind: 'replaced' })).json).toEqual({
      connections: 1,
    })
    expect(await closed).toBe(440)
  })
})
