import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startEmbedded } from '../embedded/embedded.js'
import { loadConfig } from '../shared/config.js'
import type { SessionRecord } from '../shared/db/index.js'
import { createFakeSocketFactory } from '../tests/support/fake-wa-socket.js'
import { createDbAuthState } from './auth/auth-state.js'
import { LoginPacer } from './login-pacer.js'
import { createHarness, type Harness } from './test-harness.js'

/**
 * Logins the connector starts by itself (restore, adoption, reconnects) are spaced out at
 * SESSION_LOGINS_PER_SECOND, so WhatsApp never sees a burst of them, and nothing waits for them.
 */

let h: Harness | undefined
afterEach(async () => {
  await h?.cleanup()
  h = undefined
  vi.restoreAllMocks()
})

const LINKED = (id: string, index: number): Partial<SessionRecord> => ({
  id,
  state: 'open',
  ownJid: `1555000${String(index).padStart(4, '0')}@s.whatsapp.net`,
})

/** The most sockets created in any one-second window. */
const busiestSecond = (times: number[]) =>
  Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + 1_000).length))

/** Records when each fake socket is created. */
const creationTimes = (harness: Harness) => {
  const times: number[] = []
  harness.wa.onCreate(() => times.push(performance.now()))
  return times
}

/**
 * Records when the connector's pacer grants each login slot, at the moment it decides (its
 * clock is performance.now()): taken later, in a callback of the slot's promise, the time would
 * carry that callback's own delay. The socket follows its slot after a few database reads, whose
 * time varies a little from one session to the next.
 */
const grantTimes = () => {
  const times: number[] = []
  const pacer = LoginPacer.prototype as unknown as { grant: (waiter: unknown) => void }
  const grant = pacer.grant
  vi.spyOn(pacer, 'grant').mockImplementation(function (this: LoginPacer, waiter: unknown) {
    times.push(performance.now())
    grant.call(this, waiter)
  })
  return times
}

/** Slots at least `ms` apart: the pacer never grants before the previous grant plus its interval. */
const expectSpacing = (times: number[], ms: number) => {
  for (const [i, t] of times.slice(1).entries()) expect(t - (times[i] as number)).toBeGreaterThanOrEqual(ms)
}

describe('login pacing', () => {
  it('restores many sessions after start returned, at most the configured logins per second', async () => {
    const count = 30
    h = await createHarness({
      env: { SESSION_LOGINS_PER_SECOND: '20' },
      start: false,
      before: async ({ addSession }) => {
        for (let i = 0; i < count; i++) await addSession(LINKED(`r${i}`, i))
      },
    })
    const grants = grantTimes()
    await h.connector.start()
    expect(h.wa.sockets.length).toBeLessThan(count)
    await vi.waitFor(() => expect(h?.wa.sockets).toHaveLength(count), { timeout: 5_000 })
    expect(grants).toHaveLength(count)
    expectSpacing(grants, 50)
    expect(busiestSecond(grants)).toBeLessThanOrEqual(20)
  })

  it('adopts sessions at once and paces their logins the same way (split mode)', async () => {
    h = await createHarness({ env: { SESSION_LOGINS_PER_SECOND: '20' } })
    const harness = h
    const ids: string[] = []
    for (let i = 0; i < 25; i++) ids.push((await harness.addSession(LINKED(`a${i}`, i))).id)
    const grants = grantTimes()
    const started = performance.now()
    await Promise.all(ids.map((id) => harness.connector.sessions.adopt(id)))
    // The placement round that adopted them is not held up by their logins.
    expect(performance.now() - started).toBeLessThan(500)
    expect(ids.every((id) => harness.connector.sessions.needsOwner(id))).toBe(true)
    await vi.waitFor(() => expect(harness.wa.sockets).toHaveLength(25), { timeout: 5_000 })
    expectSpacing(grants, 50)
    expect(busiestSecond(grants)).toBeLessThanOrEqual(20)
  })

  it('spreads the reconnects of sessions that all dropped at once', async () => {
    h = await createHarness({ env: { SESSION_LOGINS_PER_SECOND: '20' } })
    const harness = h
    const linked: string[] = []
    for (let i = 0; i < 10; i++) {
      const session = await harness.addSession({ id: `d${i}` })
      await harness.linkAndOpen(session.id)
      linked.push(session.id)
    }
    const grants = grantTimes()
    const created = harness.wa.sockets.length
    const open = harness.wa.sockets.filter((sock) => !sock.closed)
    expect(open).toHaveLength(10)
    for (const sock of open) sock.closeWith(428, 'Connection Terminated')
    await vi.waitFor(() => expect(harness.wa.sockets).toHaveLength(created + 10))
    expect(grants).toHaveLength(10)
    expectSpacing(grants, 50)
  })

  it('while WhatsApp refuses connections, tries one login a second for all sessions, then catches up', async () => {
    h = await createHarness({ env: { SESSION_LOGINS_PER_SECOND: '50' } })
    const harness = h
    let reachable = false
    harness.wa.onCreate((sock) => {
      sock.unreachable = !reachable
    })
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await harness.addSession({ id: `u${i}` })).id)
    const times = creationTimes(harness)
    // Started by a user: these do not wait for the pacer, and all five fail.
    for (const id of ids) await harness.bus.send(id, 'session.start', { sessionId: id })
    // Their reconnects (5 to 40 ms of backoff) queue for one probe a second.
    await vi.waitFor(() => expect(harness.wa.sockets).toHaveLength(8), { timeout: 4_000 })
    const probes = times.slice(5)
    expect((probes[1] as number) - (probes[0] as number)).toBeGreaterThanOrEqual(950)
    expect((probes[2] as number) - (probes[1] as number)).toBeGreaterThanOrEqual(950)

    reachable = true
    const created = harness.wa.sockets.length
    // The next probe connects, and every session waiting behind it follows at the normal pace.
    await vi.waitFor(
      () => {
        const live = harness.wa.sockets.slice(created).filter((sock) => !sock.closed)
        expect(new Set(live.map((sock) => sock.config.auth.creds))).toHaveProperty('size', 5)
      },
      { timeout: 3_000 },
    )
  })

  it('lets a status send for a session queued behind others log in first', async () => {
    const count = 20
    h = await createHarness({
      env: { SESSION_LOGINS_PER_SECOND: '5' },
      start: false,
      before: async ({ addSession, db }) => {
        for (let i = 0; i < count; i++) await addSession(LINKED(`q${i}`, i))
        // Creds of a linked device, as a previous run would have stored them.
        const auth = await createDbAuthState(db.client, 'q19')
        auth.state.creds.me = { id: '15550000019:3@s.whatsapp.net' }
        auth.state.creds.account = { details: new Uint8Array([1]) }
        await auth.saveCreds()
      },
    })
    const harness = h
    await harness.connector.start()
    // The last one would wait four seconds for its turn.
    const reply = harness.bus
      .send('q19', 'status.send', { sessionId: 'q19', type: 'text', content: 'hi', targetNumbers: [] })
      .catch((error: unknown) => error)
    await vi.waitFor(
      () => expect(harness.connector.sessions.runtime('q19')?.currentState).toBe('connecting'),
      {
        timeout: 1_000,
      },
    )
    // Its login went ahead of the 18 others still queued (the first slot had gone already).
    expect(harness.wa.sockets).toHaveLength(2)
    // Each socket's logger is a child of its session's.
    const sock = harness.wa.sockets.find(
      (s) => (s.config.logger as Logger | undefined)?.bindings().sessionId === 'q19',
    )
    expect(sock).toBeDefined()
    sock?.open()
    await vi.waitFor(() => expect(harness.connector.sessions.runtime('q19')?.currentState).toBe('open'))
    await vi.waitFor(() => expect(sock?.sent).toHaveLength(1))
    const id = sock?.sent[0]?.options?.messageId ?? ''
    sock?.ack(id)
    expect(await reply).toMatchObject({ waMessageId: id })
  })
})

describe('restoring many sessions in the embedded product', () => {
  it('answers GET /api/health while the sessions are still logging in', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wa-restore-'))
    const wa = createFakeSocketFactory()
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      API_KEY: 'restore-test-key-0123456789',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      SESSION_LOGINS_PER_SECOND: '20',
    })
    const logger = pino({ level: 'silent' })
    const first = await startEmbedded({ config, logger, connector: { socketFactory: wa.factory } })
    const count = 60
    for (let i = 0; i < count; i++) {
      await first.repos.sessions.create({
        id: `e${i}`,
        name: `Session ${i}`,
        authMethod: 'pairing',
        phoneNumber: '15550001111',
        state: 'open',
        ownNumber: null,
        ownJid: `1555000${String(i).padStart(4, '0')}@s.whatsapp.net`,
        ownLid: null,
        pairingCode: null,
        qrCode: null,
        lastError: null,
      })
    }
    await first.stop()

    const started = performance.now()
    const product = await startEmbedded({ config, logger, connector: { socketFactory: wa.factory } })
    try {
      // Start-up did not wait for 60 logins at 20 a second.
      expect(performance.now() - started).toBeLessThan(2_500)
      const health = await fetch(`http://127.0.0.1:${product.port}/api/health`)
      expect(health.status).toBe(200)
      expect(wa.sockets.length).toBeLessThan(count)
      await vi.waitFor(() => expect(wa.sockets).toHaveLength(count), { timeout: 6_000 })
    } finally {
      await product.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
