import { join } from 'node:path'
import pino from 'pino'
import { expect, vi } from 'vitest'
import { InProcessBus } from '../shared/bus/in-process.js'
import { type Config, loadConfig } from '../shared/config.js'
import { createRepositories, type Repositories, type SessionRecord } from '../shared/db/index.js'
import { openTestDatabase, type TestDatabase } from '../shared/db/test-support.js'
import type { EventMessage, EventName, ServerEvents } from '../shared/events.js'
import { LocalMediaStore } from '../shared/node/local-media-store.js'
import {
  createFakeSocketFactory,
  type FakeSocketFactory,
  type FakeWaSocket,
} from '../tests/support/fake-wa-socket.js'
import { Connector, type ConnectorDeps } from './connector.js'
import { mediaKindFromUrl } from './status-content.js'

/**
 * A connector wired to a real libSQL file, a real media folder and the in-process bus, with fake
 * Baileys sockets. Used by the connector's tests only.
 */
export interface Harness {
  connector: Connector
  bus: InProcessBus
  repos: Repositories
  db: TestDatabase
  media: LocalMediaStore
  wa: FakeSocketFactory
  config: Config
  events: EventMessage[]
  /** Payloads of one event, in order. */
  eventsOf<E extends EventName>(event: E, sessionId?: string): ServerEvents[E][]
  addSession(overrides?: Partial<SessionRecord>): Promise<SessionRecord>
  /** Links a session the way Baileys does: QR, pair-success, 515, a new socket that opens. */
  linkAndOpen(sessionId: string, account?: { number?: string; lid?: string }): Promise<LinkedSockets>
  cleanup(): Promise<void>
}

export interface LinkedSockets {
  /** The socket that showed the QR and received pair-success. */
  first: FakeWaSocket
  /** The socket opened after the 515 restart. */
  second: FakeWaSocket
}

export interface HarnessOptions {
  env?: Record<string, string>
  deps?: Partial<ConnectorDeps>
  /** Start the connector (restore + retention) before returning; default true. */
  start?: boolean
  /** Runs before the connector starts (e.g. to store sessions that must be restored). */
  before?: (harness: Omit<Harness, 'connector' | 'linkAndOpen'>) => Promise<void>
}

export const createHarness = async (options: HarnessOptions = {}): Promise<Harness> => {
  const db = await openTestDatabase()
  const repos = createRepositories(db.client)
  const bus = new InProcessBus()
  const events: EventMessage[] = []
  bus.subscribe((message) => events.push(message))
  const config = loadConfig({ STATUS_ACK_TIMEOUT_MS: '1000', LOG_LEVEL: 'silent', ...options.env })
  const media = new LocalMediaStore({
    dir: join(db.dir, 'media'),
    publicUrl: 'http://localhost',
    secret: 's',
  })
  const wa = createFakeSocketFactory()
  const eventsOf = <E extends EventName>(event: E, sessionId?: string) =>
    events
      .filter((m) => m.event === event && (!sessionId || m.payload.sessionId === sessionId))
      .map((m) => m.payload as ServerEvents[E])
  let sessionCount = 0
  const addSession = (overrides: Partial<SessionRecord> = {}) =>
    repos.sessions.create({
      id: `s${++sessionCount}`,
      name: 'Test session',
      authMethod: 'pairing',
      phoneNumber: '15550001111',
      state: 'created',
      ownNumber: null,
      ownJid: null,
      ownLid: null,
      pairingCode: null,
      qrCode: null,
      lastError: null,
      ...overrides,
    })
  const base = { bus, repos, db, media, wa, config, events, eventsOf, addSession }
  await options.before?.({ ...base, cleanup: async () => {} })
  const connector = new Connector({
    config,
    db: db.client,
    repos,
    events: bus,
    commands: bus,
    media,
    logger: pino({ level: 'silent' }),
    socketFactory: wa.factory,
    backoff: { baseMs: 5, maxMs: 40, jitter: 0 },
    // Offline stand-in for the URL media download: kind from the extension, fixed bytes.
    fetchUrlMedia: async (url) => {
      const kind = mediaKindFromUrl(url)
      return kind
        ? { kind, bytes: Buffer.from(`bytes of ${url.pathname}`), mimetype: null }
        : { kind: null, bytes: null, mimetype: null }
    },
    ...options.deps,
  })
  if (options.start !== false) await connector.start()
  const linkAndOpen = async (sessionId: string, { number = '15550001111', lid = '99887766' } = {}) => {
    await bus.send(sessionId, 'session.start', { sessionId })
    const first = wa.latest()
    first.emitQr()
    const before = wa.sockets.length
    first.pairSuccess({ number, lid })
    await vi.waitFor(() => expect(wa.sockets.length).toBe(before + 1))
    const second = wa.latest()
    second.open()
    await vi.waitFor(async () => expect((await repos.sessions.get(sessionId))?.state).toBe('open'))
    return { first, second }
  }
  return {
    ...base,
    connector,
    linkAndOpen,
    async cleanup() {
      await connector.stop()
      await bus.close()
      await db.cleanup()
    },
  }
}
