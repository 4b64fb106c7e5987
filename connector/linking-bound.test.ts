import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FakeWaSocket } from '../tests/support/fake-wa-socket.js'
import { DEFAULT_LINK_ROUNDS } from './connector.js'
import { createHarness, type Harness } from './test-harness.js'

/** Linking goes on only while somebody may still link: a bounded number of rounds of codes. */

let h: Harness
afterEach(async () => {
  await h?.cleanup()
})

/** One linking round nobody used: the socket shows a QR, then WhatsApp ends it (its refs ran out). */
const unusedRound = async (sock: FakeWaSocket, sessionId: string) => {
  const shown = h.eventsOf('qr-code', sessionId).length
  sock.emitQr()
  await vi.waitFor(() => expect(h.eventsOf('qr-code', sessionId)).toHaveLength(shown + 1))
  sock.closeWith(408, 'QR refs attempts ended')
}

const nextSocket = async (count: number) => {
  await vi.waitFor(() => expect(h.wa.sockets).toHaveLength(count))
  return h.wa.latest()
}

const expectStopped = async (sessionId: string) => {
  await vi.waitFor(async () => expect((await h.repos.sessions.get(sessionId))?.state).toBe('closed'))
  const runtime = h.connector.sessions.runtime(sessionId)
  expect(runtime?.isActive).toBe(false)
  expect(runtime?.reconnectPending).toBe(false)
  expect(h.wa.sockets.filter((sock) => !sock.closed)).toHaveLength(0)
}

describe('a session nobody links', () => {
  it('stops refreshing QR codes after its rounds, and restart gives it a fresh set', async () => {
    h = await createHarness()
    const session = await h.addSession({ authMethod: 'qrcode', phoneNumber: null })
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    expect(DEFAULT_LINK_ROUNDS).toBe(3)
    for (let round = 1; round <= DEFAULT_LINK_ROUNDS; round++) {
      await unusedRound(await nextSocket(round), session.id)
    }

    await expectStopped(session.id)
    const stored = await h.repos.sessions.get(session.id)
    expect(stored).toMatchObject({ qrCode: null, pairingCode: null })
    expect(stored?.lastError).toMatch(/^Linking stopped: .* in 3 rounds; restart the session to link it$/)
    expect(h.eventsOf('connection-status', session.id).at(-1)).toEqual({
      sessionId: session.id,
      connected: false,
      status: 'closed',
      ownNumber: null,
      error: stored?.lastError,
    })
    expect(h.eventsOf('qr-code', session.id)).toHaveLength(3)

    // Restart: a user wants to link now. New codes, and a full set of rounds again.
    await h.bus.send(session.id, 'session.restart', { sessionId: session.id })
    await unusedRound(await nextSocket(4), session.id)
    const fifth = await nextSocket(5)
    fifth.emitQr()
    await vi.waitFor(async () => expect((await h.repos.sessions.get(session.id))?.state).toBe('qr'))
    expect(h.connector.sessions.runtime(session.id)?.isActive).toBe(true)
  })

  it('stops offering pairing codes after its rounds; a pairing-code request resumes it', async () => {
    h = await createHarness({ deps: { linkRounds: 2 } })
    const session = await h.addSession()
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    for (let round = 1; round <= 2; round++) {
      const sock = await nextSocket(round)
      sock.emitQr()
      await vi.waitFor(() => expect(h.eventsOf('pairing-code', session.id)).toHaveLength(round))
      sock.closeWith(408, 'QR refs attempts ended')
    }
    await expectStopped(session.id)

    const reply = h.bus.send(session.id, 'session.requestPairingCode', { sessionId: session.id })
    ;(await nextSocket(3)).emitQr()
    await expect(reply).resolves.toMatchObject({ pairingCode: 'ABCD1234' })
    expect((await h.repos.sessions.get(session.id))?.state).toBe('pairing')
  })

  it('counts only rounds that showed a code: failed connection attempts go on with backoff', async () => {
    h = await createHarness({ deps: { linkRounds: 1 } })
    const session = await h.addSession({ authMethod: 'qrcode', phoneNumber: null })
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    for (let attempt = 1; attempt <= 4; attempt++)
      (await nextSocket(attempt)).closeWith(428, 'Connection Closed')
    await nextSocket(5)
    expect(h.connector.sessions.runtime(session.id)?.isActive).toBe(true)
    expect((await h.repos.sessions.get(session.id))?.state).toBe('reconnecting')
  })

  it('never counts against a linked session', async () => {
    h = await createHarness({ deps: { linkRounds: 1 } })
    const session = await h.addSession()
    const { second } = await h.linkAndOpen(session.id)
    second.closeWith(408, 'Connection was lost')
    const third = await nextSocket(3)
    third.open()
    await vi.waitFor(async () => expect((await h.repos.sessions.get(session.id))?.state).toBe('open'))
  })
})
