import { DisconnectReason, type WASocket } from '@whiskeysockets/baileys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type KickKind, WaSimulator } from './server.js'
import { closeClient, connectClient, linkByQr, waitClosed, waitOpen } from './test-clients.js'

describe('server-initiated disconnects as real Baileys sees them', () => {
  let sim: WaSimulator
  const sockets: WASocket[] = []
  let nextPhone = 15550006001

  beforeEach(async () => {
    sim = await WaSimulator.start({ controlPort: false })
  })

  afterEach(async () => {
    for (const sock of sockets.splice(0)) closeClient(sock)
    await sim.stop()
  })

  async function linked() {
    const account = sim.createAccount({ phone: String(nextPhone++) })
    const client = await linkByQr(sim, account.phone)
    sockets.push(client.sock)
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
    expect(await sim.kick(account.phone, kind)).toBe(1)
    expect(await closed).toBe(expected)
  })

  it('unlinks the device on logout, so stored creds no longer log in', async () => {
    const { account, sock, auth } = await linked()
    const closed = waitClosed(sock)
    await sim.kick(account.phone, 'logout')
    await closed
    expect(sim.linkedDevices(account.phone)).toEqual([])
    const again = connectClient(sim, { auth })
    sockets.push(again)
    expect(await waitClosed(again)).toBe(DisconnectReason.loggedOut)
  })

  it('replaces the older connection when the same device logs in twice', async () => {
    const { sock, auth } = await linked()
    const closed = waitClosed(sock)
    const second = connectClient(sim, { auth })
    sockets.push(second)
    await waitOpen(second)
    expect(await closed).toBe(DisconnectReason.connectionReplaced)
  })

  it('drops everything on restart() and accepts the clients back on the same URL', async () => {
    const { account, sock, auth } = await linked()
    const url = sim.wsUrl
    const closed = waitClosed(sock)
    await sim.restart()
    expect(await closed).toBe(DisconnectReason.connectionClosed)
    expect(sim.wsUrl).toBe(url)
    const again = connectClient(sim, { auth })
    sockets.push(again)
    await waitOpen(again)
    expect(sim.isOnline(account.phone)).toBe(true)
  })
})
