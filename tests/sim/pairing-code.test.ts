import { describe, expect, it } from 'vitest'
import { makeMemoryAuthState } from './memory-keys.js'
import { connectClient, nextQr, useSimulator, waitClosed, waitOpen } from './test-clients.js'

describe('pairing-code linking against real Baileys', () => {
  const run = useSimulator()

  it('links with the code the client shows, then logs in as a registered companion', async () => {
    const account = run.sim.createAccount({ phone: '15550002001' })
    const auth = makeMemoryAuthState()
    const sock = connectClient(run.sim, { auth })
    run.sockets.push(sock)
    await nextQr(sock)
    const code = await sock.requestPairingCode(account.phone)
    expect(code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/)
    const closed = waitClosed(sock)
    const device = await run.sim.enterPairingCode(account.phone, code)
    expect(await closed).toBe(515)
    expect(auth.creds.registered).toBe(true)
    expect(auth.creds.me?.id).toBe(device.jid)

    const again = connectClient(run.sim, { auth })
    run.sockets.push(again)
    await waitOpen(again)
    expect(run.sim.isOnline(account.phone)).toBe(true)
  })

  it('refuses a wrong code: the phone cannot open the companion key bundle', async () => {
    const account = run.sim.createAccount({ phone: '15550002002' })
    const sock = connectClient(run.sim)
    run.sockets.push(sock)
    await nextQr(sock)
    await sock.requestPairingCode(account.phone)
    await expect(run.sim.enterPairingCode(account.phone, 'ZZZZZZZZ')).rejects.toThrow(/pairing code rejected/)
    expect(run.sim.linkedDevices(account.phone)).toEqual([])
  })
})
