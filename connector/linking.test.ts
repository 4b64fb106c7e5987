import { afterEach, describe, expect, it, vi } from 'vitest'
import { AppError, Messages } from '../shared/errors.js'
import { createHarness, type Harness } from './test-harness.js'

let h: Harness
afterEach(async () => {
  await h?.cleanup()
})

const storedCredsCount = async (sessionId: string) => {
  const result = await h.db.client.execute({
    sql: 'SELECT COUNT(*) AS n FROM wa_auth_creds WHERE session_id = ?',
    args: [sessionId],
  })
  return Number(result.rows[0]?.n)
}

const storedCredsMe = async (sessionId: string): Promise<unknown> => {
  const result = await h.db.client.execute({
    sql: 'SELECT value FROM wa_auth_creds WHERE session_id = ?',
    args: [sessionId],
  })
  const value = result.rows[0]?.value
  return value ? (JSON.parse(String(value)) as { me?: unknown }).me : undefined
}

/** Nothing will reconnect: the runtime is inactive with no timer armed and no socket open. */
const expectNoReconnect = (sessionId: string) => {
  const runtime = h.connector.sessions.runtime(sessionId)
  expect(runtime?.isActive).toBe(false)
  expect(runtime?.reconnectPending).toBe(false)
  expect(h.wa.sockets.filter((sock) => !sock.closed)).toHaveLength(0)
}

const linkAndOpen = (sessionId: string, number?: string, lid?: string) =>
  h.linkAndOpen(sessionId, { number, lid })

describe('linking by QR code', () => {
  it('renders each QR as a PNG data URL, stores it and announces it', async () => {
    h = await createHarness()
    const session = await h.addSession({ authMethod: 'qrcode', phoneNumber: null })
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    h.wa.latest().emitQr()

    await vi.waitFor(() => expect(h.eventsOf('qr-code', session.id)).toHaveLength(1))
    const [event] = h.eventsOf('qr-code', session.id)
    expect(event?.authMethod).toBe('qrcode')
    expect(event?.qrCode).toMatch(/^data:image\/png;base64,/)
    const stored = await h.repos.sessions.get(session.id)
    expect(stored?.state).toBe('qr')
    expect(stored?.qrCode).toBe(event?.qrCode)
    // QR sessions never ask for a pairing code.
    expect(h.wa.latest().pairingRequests).toEqual([])
  })
})

describe('linking by pairing code', () => {
  it('requests the code only after the first QR, once per socket, and announces it', async () => {
    h = await createHarness()
    const session = await h.addSession({ phoneNumber: '15550001111' })
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    const sock = h.wa.latest()
    await vi.waitFor(() => expect(h.eventsOf('connection-status', session.id)[0]?.status).toBe('connecting'))
    expect(sock.pairingRequests).toEqual([])

    sock.emitQr()
    sock.emitQr()
    await vi.waitFor(() => expect(h.eventsOf('pairing-code', session.id)).toHaveLength(1))
    expect(sock.pairingRequests).toEqual(['15550001111'])
    expect(h.eventsOf('pairing-code', session.id)[0]).toEqual({
      sessionId: session.id,
      pairingCode: 'ABCD1234',
      phoneNumber: '15550001111',
      authMethod: 'pairing',
    })
    const stored = await h.repos.sessions.get(session.id)
    expect(stored).toMatchObject({ state: 'pairing', pairingCode: 'ABCD1234', qrCode: null })
  })

  it('answers 409 while a pairing code request is in flight', async () => {
    h = await createHarness()
    const session = await h.addSession()
    let release = () => {}
    h.wa.onCreate((sock) => {
      sock.pairingGate = new Promise((resolve) => {
        release = resolve
      })
    })
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    h.wa.latest().emitQr()
    await vi.waitFor(() => expect(h.wa.latest().pairingRequests).toHaveLength(1))

    await expect(
      h.bus.send(session.id, 'session.requestPairingCode', { sessionId: session.id }),
    ).rejects.toEqual(new AppError('conflict', Messages.pairingInProgress))
    release()
    await vi.waitFor(() => expect(h.eventsOf('pairing-code', session.id)).toHaveLength(1))
  })

  it('restarts linking on request and replies with the new code once generated', async () => {
    h = await createHarness()
    const session = await h.addSession()
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    const first = h.wa.latest()
    first.emitQr()
    await vi.waitFor(() => expect(h.eventsOf('pairing-code', session.id)).toHaveLength(1))

    h.wa.onCreate((sock) => {
      sock.pairingCode = 'NEWC0DE9'
    })
    const reply = h.bus.send(session.id, 'session.requestPairingCode', { sessionId: session.id })
    await vi.waitFor(() => expect(h.wa.sockets).toHaveLength(2))
    expect(first.closed).toBe(true)
    const second = h.wa.latest()
    // The earlier code's half-made creds are not reused by the new socket.
    expect(second.authState.creds.me).toBeUndefined()
    second.emitQr()
    await expect(reply).resolves.toEqual({ pairingCode: 'NEWC0DE9', phoneNumber: '15550001111' })
    expect((await h.repos.sessions.get(session.id))?.pairingCode).toBe('NEWC0DE9')
  })

  it('refuses a code without a phone number, for QR sessions and for linked sessions', async () => {
    h = await createHarness()
    const noPhone = await h.addSession({ phoneNumber: null })
    await expect(
      h.bus.send(noPhone.id, 'session.requestPairingCode', { sessionId: noPhone.id }),
    ).rejects.toEqual(new AppError('bad_request', Messages.phoneNotSet))

    const qr = await h.addSession({ authMethod: 'qrcode', phoneNumber: null })
    // The same answer the API gives before asking the connector (409: the session's own method).
    await expect(h.bus.send(qr.id, 'session.requestPairingCode', { sessionId: qr.id })).rejects.toEqual(
      new AppError('conflict', Messages.notPairingSession),
    )

    const linked = await h.addSession()
    await linkAndOpen(linked.id)
    await expect(
      h.bus.send(linked.id, 'session.requestPairingCode', { sessionId: linked.id }),
    ).rejects.toEqual(new AppError('conflict', Messages.alreadyConnected))
  })

  it('reports a failed pairing request, wipes the half-made creds and tries again on a new socket', async () => {
    h = await createHarness()
    const session = await h.addSession()
    h.wa.onCreate((sock) => {
      if (h.wa.sockets.length === 0) sock.pairingGate = new Promise(() => {})
    })
    await h.bus.send(session.id, 'session.start', { sessionId: session.id })
    const first = h.wa.latest()
    first.emitQr()
    await vi.waitFor(async () => expect(await storedCredsMe(session.id)).toBeDefined())

    // The socket dies while the request waits: Baileys rejects it with 428.
    first.closeWith(428, 'Connection Closed')
    await vi.waitFor(() => expect(h.eventsOf('pairing-code-error', session.id)).toHaveLength(1))
    expect(h.eventsOf('pairing-code-error', session.id)[0]?.error).toBe('Connection Closed')
    await vi.waitFor(() => expect(h.wa.sockets).toHaveLength(2))
    expect(await storedCredsMe(session.id)).toBeUndefined()
    expect(h.wa.latest().authState.creds.me).toBeUndefined()
  })
})

describe('after linking', () => {
  it('restarts with a new socket on 515 and announces the open connection with the own number', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const { first, second } = await linkAndOpen(session.id, '15550001111', '99887766')

    expect(second).not.toBe(first)
    // Same auth state: the new socket logs in with the creds the pairing produced.
    expect(second.authState.creds).toBe(first.authState.creds)
    const status = h.eventsOf('connection-status', session.id).at(-1)
    expect(status).toEqual({
      sessionId: session.id,
      connected: true,
      status: 'open',
      ownNumber: '15550001111',
    })
    expect(await h.repos.sessions.get(session.id)).toMatchObject({
      ownNumber: '15550001111',
      ownJid: '15550001111@s.whatsapp.net',
      ownLid: '99887766@lid',
      pairingCode: null,
    })
  })

  it('wipes creds on 401 and does not reconnect', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const { second } = await linkAndOpen(session.id)
    await vi.waitFor(async () => expect(await storedCredsCount(session.id)).toBe(1))

    second.closeWith(401, 'Connection Failure')
    await vi.waitFor(async () => expect((await h.repos.sessions.get(session.id))?.state).toBe('logged_out'))
    expect(await storedCredsCount(session.id)).toBe(0)
    expect(h.eventsOf('connection-status', session.id).at(-1)).toMatchObject({
      connected: false,
      status: 'logged_out',
    })
    expectNoReconnect(session.id)
  })

  it('does not fight a 440 takeover', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const { second } = await linkAndOpen(session.id)
    second.closeWith(440, 'Stream Errored (conflict)')
    await vi.waitFor(async () => expect((await h.repos.sessions.get(session.id))?.state).toBe('replaced'))
    expectNoReconnect(session.id)
    expect(await storedCredsCount(session.id)).toBe(1)
  })

  it('reconnects after a transient close, with backoff, and keeps the creds', async () => {
    h = await createHarness({ deps: { backoff: { baseMs: 30, maxMs: 1000, jitter: 0 } } })
    const session = await h.addSession()
    const { second } = await linkAndOpen(session.id)
    const closedAt = Date.now()
    second.closeWith(408, 'Connection was lost')

    await vi.waitFor(() => expect(h.wa.sockets).toHaveLength(3))
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(25)
    expect(h.eventsOf('connection-status', session.id).at(-1)).toMatchObject({ status: 'reconnecting' })
    const third = h.wa.latest()
    expect(third.authState.creds.me?.id).toBe('15550001111:3@s.whatsapp.net')
    // A second failure waits twice as long.
    const secondCloseAt = Date.now()
    third.closeWith(503)
    await vi.waitFor(() => expect(h.wa.sockets).toHaveLength(4))
    expect(Date.now() - secondCloseAt).toBeGreaterThanOrEqual(55)
    h.wa.latest().open()
    await vi.waitFor(async () => expect((await h.repos.sessions.get(session.id))?.state).toBe('open'))
  })
})

describe('session commands', () => {
  it('restart ends the socket and starts a fresh one', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const { second } = await linkAndOpen(session.id)
    await h.bus.send(session.id, 'session.restart', { sessionId: session.id })
    expect(second.closed).toBe(true)
    expect(second.loggedOut).toBe(false)
    expect(h.wa.sockets).toHaveLength(3)
  })

  it('stop closes without logging out and records the session as closed', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const { second } = await linkAndOpen(session.id)
    await h.bus.send(session.id, 'session.stop', { sessionId: session.id })
    expect(second.closed).toBe(true)
    expect(second.loggedOut).toBe(false)
    expect((await h.repos.sessions.get(session.id))?.state).toBe('closed')
    expect(await storedCredsCount(session.id)).toBe(1)
    await expect(
      h.bus.send(session.id, 'status.send', {
        sessionId: session.id,
        type: 'text',
        content: 'x',
        targetNumbers: [],
      }),
    ).rejects.toEqual(new AppError('conflict', Messages.notConnected))
  })

  it('delete logs a linked session out and wipes its auth state and LID pairs', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const { second } = await linkAndOpen(session.id)
    await h.repos.lidMap.upsertMany(session.id, [{ lid: '1@lid', pn: '15550002222' }])
    await vi.waitFor(async () => expect(await storedCredsCount(session.id)).toBe(1))

    await expect(h.bus.send(session.id, 'session.delete', { sessionId: session.id })).resolves.toEqual({
      loggedOut: true,
    })
    expect(second.loggedOut).toBe(true)
    expect(await storedCredsCount(session.id)).toBe(0)
    expect((await h.repos.lidMap.getPnForLids(session.id, ['1@lid'])).size).toBe(0)
  })

  it('answers 404 for sessions that do not exist', async () => {
    h = await createHarness()
    await expect(h.bus.send('nope', 'session.start', { sessionId: 'nope' })).rejects.toEqual(
      new AppError('not_found', Messages.sessionNotFound),
    )
  })

  it('handles a redelivered command id once', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const envelope = {
      id: 'cmd-1',
      name: 'session.restart' as const,
      input: { sessionId: session.id },
      deadline: Date.now() + 10_000,
    }
    const first = h.connector.sessions.handle(envelope)
    const again = h.connector.sessions.handle(envelope)
    expect(again).toBe(first)
    await first
    await h.connector.sessions.handle(envelope)
    expect(h.wa.sockets).toHaveLength(1)
  })
})

describe('connector lifecycle', () => {
  it('restores linked and linking sessions at start without re-linking, and skips stopped ones', async () => {
    h = await createHarness({
      start: false,
      before: async ({ addSession }) => {
        await addSession({ id: 'linking', state: 'pairing' })
        await addSession({ id: 'linked', state: 'open', ownJid: '15550001111@s.whatsapp.net' })
        await addSession({ id: 'stopped', state: 'closed' })
        await addSession({ id: 'gone', state: 'logged_out' })
      },
    })
    // Creds of a linked device, as a previous run would have stored them.
    const { createDbAuthState } = await import('./auth/auth-state.js')
    const auth = await createDbAuthState(h.db.client, 'linked')
    auth.state.creds.me = { id: '15550001111:3@s.whatsapp.net' }
    auth.state.creds.account = { details: new Uint8Array([1]) }
    await auth.saveCreds()

    await h.connector.start()
    // Restored sessions log in paced, after start returned: the linked one first.
    await vi.waitFor(() => expect(h.wa.sockets).toHaveLength(2))
    const ids = h.wa.sockets.map((sock) => sock.authState.creds.me?.id ?? null)
    expect(ids).toEqual(['15550001111:3@s.whatsapp.net', null])
    h.wa.sockets.find((sock) => sock.authState.creds.me)?.open()
    await vi.waitFor(async () => expect((await h.repos.sessions.get('linked'))?.state).toBe('open'))
    expect(h.eventsOf('qr-code')).toHaveLength(0)
  })

  it('stops without logging out and leaves sessions to be restored', async () => {
    h = await createHarness()
    const session = await h.addSession()
    const { second } = await linkAndOpen(session.id)
    await h.connector.stop()
    expect(second.closed).toBe(true)
    expect(second.loggedOut).toBe(false)
    expect((await h.repos.sessions.get(session.id))?.state).toBe('open')
    await expect(h.bus.send(session.id, 'session.start', { sessionId: session.id })).rejects.toMatchObject({
      code: 'unavailable',
    })
  })
})
