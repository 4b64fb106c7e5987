import { describe, expect, it, vi } from 'vitest'
import {
  closeClient,
  connectClient,
  linkByQr,
  nextQr,
  useSimulator,
  waitClosed,
  waitOpen,
} from './test-clients.js'

describe('QR linking and login against real Baileys', () => {
  const run = useSimulator()

  it('links by QR, restarts with 515 and logs in with the LID it was given', async () => {
    const account = run.sim.createAccount({ phone: '15550001001' })
    const { sock, auth } = await linkByQr(run.sim, account.phone)
    run.sockets.push(sock)
    expect(auth.creds.me?.id).toMatch(/^15550001001:\d+@s\.whatsapp\.net$/)
    expect(auth.creds.me?.lid).toBe(account.lidJid(run.sim.linkedDevices(account.phone)[0]))
    expect(auth.creds.account?.accountSignatureKey).toEqual(
      Buffer.from(account.phoneDevice.identityKey.public),
    )
    expect(run.sim.isOnline(account.phone)).toBe(true)
  })

  it('offers rotating QR refs in the documented format', async () => {
    const sock = connectClient(run.sim)
    run.sockets.push(sock)
    const first = await nextQr(sock)
    expect(first).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#2@[^,]+,[^,]+,[^,]+,[^,]+,\d+$/)
  })

  it('rejects a login from an unknown device with 401', async () => {
    const account = run.sim.createAccount({ phone: '15550001002' })
    const { sock, auth } = await linkByQr(run.sim, account.phone)
    closeClient(sock)
    const [deviceId] = run.sim.linkedDevices(account.phone)
    await run.sim.kick(account.phone, 'logout', deviceId)
    const again = connectClient(run.sim, { auth })
    run.sockets.push(again)
    expect(await waitClosed(again)).toBe(401)
  })

  it('hands out edge routing info and accepts the ED-prefixed intro on the next login', async () => {
    const account = run.sim.createAccount({ phone: '15550001003' })
    const { sock, auth } = await linkByQr(run.sim, account.phone)
    await vi.waitFor(() => expect(auth.creds.routingInfo).toBeDefined(), { timeout: 15_000 })
    closeClient(sock)
    const again = connectClient(run.sim, { auth })
    run.sockets.push(again)
    await waitOpen(again)
    expect(run.sim.connectionDetails(account.phone).map((c) => c.routingInfo)).toEqual([
      auth.creds.routingInfo,
    ])
  })

  it('forgets a companion that logs itself out', async () => {
    const account = run.sim.createAccount({ phone: '15550001004' })
    const { sock } = await linkByQr(run.sim, account.phone)
    const closed = waitClosed(sock)
    await sock.logout()
    expect(await closed).toBe(401)
    await vi.waitFor(() => expect(run.sim.linkedDevices(account.phone)).toEqual([]), { timeout: 15_000 })
  })
})
