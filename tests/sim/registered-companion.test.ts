import { initAuthCreds } from '@whiskeysockets/baileys'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { makeMemoryAuthState } from './memory-keys.js'
import {
  applyRegistration,
  companionRegistration,
  generatePreKeys,
  type RegistrationAnswer,
  registrationBody,
} from './registered-creds.js'
import { WaSimulator } from './server.js'
import { closeClient, connectClient, eventually, linkByQr, waitClosed, waitOpen } from './test-clients.js'

describe('companions registered without a linking connection', () => {
  let sim: WaSimulator
  const sockets: ReturnType<typeof connectClient>[] = []

  beforeEach(async () => {
    sim = await WaSimulator.start()
  })

  afterEach(async () => {
    for (const sock of sockets.splice(0)) closeClient(sock)
    await sim.stop()
  })

  it('log straight in with creds Baileys configured from the answer, as a freshly linked companion', async () => {
    const account = sim.createAccount({ phone: '15550008001' })
    const auth = makeMemoryAuthState(initAuthCreds())
    const answer = sim.registerCompanion(account.phone, companionRegistration(auth.creds))
    applyRegistration(auth.creds, answer)
    expect(auth.creds.me?.id).toBe(`15550008001:${answer.deviceId}@s.whatsapp.net`)
    expect(auth.creds.me?.lid).toBe(account.lidJid(answer.deviceId))
    expect(auth.creds.registered).toBe(true)
    expect(auth.creds.platform).toBe('android')
    expect(auth.creds.account?.deviceSignature).toHaveLength(64)
    expect(auth.creds.account?.accountSignatureKey).toEqual(
      Buffer.from(account.phoneDevice.identityKey.public),
    )
    expect(sim.linkedDevices(account.phone)).toEqual([answer.deviceId])

    const sock = connectClient(sim, { auth })
    sockets.push(sock)
    await waitOpen(sock)
    expect(sim.isOnline(account.phone, answer.deviceId)).toBe(true)
    // The first login uploads one-time pre-keys, as after a pairing.
    await vi.waitFor(
      () => expect(account.activeCompanion(answer.deviceId)?.keys.preKeys.length).toBeGreaterThan(0),
      eventually,
    )
    // Logging in again with the same creds works too, and a linked QR companion is unaffected.
    closeClient(sock)
    const again = connectClient(sim, { auth })
    sockets.push(again)
    await waitOpen(again)
    const other = await linkByQr(sim, account.phone)
    sockets.push(other.sock)
    expect(sim.linkedDevices(account.phone)).toHaveLength(2)
  })

  it('with registered pre-keys upload none and decrypt the history sync with one of them', async () => {
    const account = sim.createAccount({ phone: '15550008005' })
    const auth = makeMemoryAuthState(initAuthCreds())
    const preKeys = generatePreKeys(auth.creds, 30)
    expect(auth.creds.nextPreKeyId).toBe(31)
    await auth.keys.set({ 'pre-key': preKeys })
    const answer = sim.registerCompanion(account.phone, companionRegistration(auth.creds, preKeys))
    applyRegistration(auth.creds, answer)
    const sock = connectClient(sim, { auth })
    sockets.push(sock)
    await waitOpen(sock)
    await vi.waitFor(() => expect(auth.creds.processedHistoryMessages.length).toBeGreaterThan(0), eventually)
    // One went into the history sync; Baileys tops the pool up only once five or fewer are left.
    expect(account.activeCompanion(answer.deviceId)?.keys.preKeys).toHaveLength(29)
    expect(auth.creds.nextPreKeyId).toBe(31)
  })

  it('are refused at login once the phone unlinked them', async () => {
    const account = sim.createAccount({ phone: '15550008002' })
    const auth = makeMemoryAuthState(initAuthCreds())
    const answer = sim.registerCompanion(account.phone, companionRegistration(auth.creds))
    applyRegistration(auth.creds, answer)
    await sim.kick(account.phone, 'logout', answer.deviceId)
    const sock = connectClient(sim, { auth })
    sockets.push(sock)
    expect(await waitClosed(sock)).toBe(401)
  })

  it('are rejected by Baileys when the answer was signed for another ADV secret', () => {
    const account = sim.createAccount({ phone: '15550008003' })
    const creds = initAuthCreds()
    const answer = sim.registerCompanion(account.phone, companionRegistration(initAuthCreds()))
    expect(() => applyRegistration(creds, answer)).toThrow(/signature/)
  })

  it('register over the control API', async () => {
    const account = sim.createAccount({ phone: '15550008004', lid: false })
    const post = async (body: unknown) => {
      const response = await fetch(`${sim.controlUrl}/accounts/${account.phone}/companions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return { status: response.status, json: (await response.json()) as RegistrationAnswer }
    }
    expect((await post({ noiseKey: 'AAAA' })).status).toBe(400)
    const auth = makeMemoryAuthState(initAuthCreds())
    expect((await post({ ...registrationBody(auth.creds), preKeys: 'x' })).status).toBe(400)
    const { status, json } = await post(registrationBody(auth.creds))
    expect(status).toBe(200)
    expect(json.lid).toBeNull()
    applyRegistration(auth.creds, json)
    expect(auth.creds.me).toEqual({ id: json.jid, lid: undefined, name: undefined })
    const sock = connectClient(sim, { auth })
    sockets.push(sock)
    await waitOpen(sock)
    expect(sim.isOnline(account.phone, json.deviceId)).toBe(true)
  })
})
