import { DisconnectReason } from '@whiskeysockets/baileys'
import { describe, expect, it } from 'vitest'
import type { KickKind } from './server.js'
import { connectClient, linkByQr, useSimulator, waitClosed, waitOpen } from './test-clients.js'

describe('server-initiated disconnects as real Baileys sees them', () => {
  const run = useSimulator()
  let nextPhone = 15550006001

  async function linked() {
    const account = run.sim.createAccount({ phone: String(nextPhone++) })
    const client = await linkByQr(run.sim, account.phone)
    run.sockets.push(client.sock)
    return { account, ...client }
  }

  const cases: [KickKind, number][] = [
    ['logout', DisconnectReason.loggedOut],
    ['replaced', DisconnectReason.connectionReplaced],
    ['restart', DisconnectReason.restartRequired],
    ['unavailable', DisconnectReason.unavailableService],
    ['drop', DisconnectReason.connectionClosed],
    [{ streamErrorCode: 500 }, DisconnectReason.badSession],
  ]

  it.each(cases)('kick %o closes the client with %i', async (kind, expected) => {
    const { account, sock } = await linked()
    const closed = waitClosed(sock)
    expect(await run.sim.kick(account.phone, kind)).toBe(1)
    expect(await closed).toBe(expected)
  })

  it('unlinks the device on logout, so stored creds no longer log in', async () => {
    const { account, sock, auth } = await linked()
    const closed = waitClosed(sock)
    await run.sim.kick(account.phone, 'logout')
    await closed
    expect(run.sim.linkedDevices(account.phone)).toEqual([])
    const again = connectClient(run.sim, { auth })
    run.sockets.push(again)
    expect(await waitClosed(again)).toBe(DisconnectReason.loggedOut)
  })

  it('replaces the older connection when the same device logs in twice', async () => {
    const { sock, auth } = await linked()
    const closed = waitClosed(sock)
    const second = connectClient(run.sim, { auth })
    run.sockets.push(second)
    await waitOpen(second)
    expect(await closed).toBe(DisconnectReason.connectionReplaced)
  })

  it('drops everything on restart() and accepts the clients back on the same URL', async () => {
    const { account, sock, auth } = await linked()
    const url = run.sim.wsUrl
    const closed = waitClosed(sock)
    await run.sim.restart()
    expect(await closed).toBe(DisconnectReason.connectionClosed)
    expect(run.sim.wsUrl).toBe(url)
    const again = connectClient(run.sim, { auth })
    run.sockets.push(again)
    await waitOpen(again)
    expect(run.sim.isOnline(account.phone)).toBe(true)
  })
})
