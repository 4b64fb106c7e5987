import type { WASocket } from '@whiskeysockets/baileys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { makeMemoryAuthState } from './memory-keys.js'
import { WaSimulator } from './server.js'
import { closeClient, connectClient, nextQr, waitClosed, waitOpen } from './test-clients.js'

describe('pairing-code linking against real Baileys', () => {
  let sim: WaSimulator
  const sockets: WASocket[] = []

  beforeEach(async () => {
    sim = await WaSimulator.start({ controlPort: false })
  })

  afterEach(async () => {
    for (const sock of sockets.splice(0)) closeClient(sock)
    await sim.stop()
  })

  it('links with the code the client shows, then logs in as a registered companion', async () => {
    const account = sim.createAccount({ phone: '15550002001' })
    const auth = makeMemoryAuthState()
    const sock = connectClient(sim, { auth })
    sockets.push(sock)
    await nextQr(sock)
    const code = await sock.requestPairingCode(account.phone)
    expect(code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/)
    const closed = waitClosed(sock)
    const device = await sim.enterPairingCode(account.phone, code)
    expect(await closed).toBe(515)
    expect(auth.creds.registered).toBe(true)
    expect(auth.creds.me?.id).toBe(device.jid)

    const again = connectClient(sim, { auth })
    sockets.push(again)
    await waitOpen(again)
    expect(sim.isOnline(account.phone)).toBe(true)
  })

  it('refuses a wrong code: the phone cannot open the companion key bundle', async () => {
    const account = sim.createAccount({ phone: '15550002002' })
    const sock = connectClient(sim)
    sockets.push(sock)
    await nextQr(sock)
    await sock.requestPairingCode(account.phone)
    await expect(sim.enterPairingCode(account.phone, 'ZZZZZZZZ')).rejects.toThrow(/pairing code rejected/)
    expect(sim.linkedDevices(account.phone)).toEqual([])
  })
})
