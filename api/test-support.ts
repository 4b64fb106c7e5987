import { mkdtemp, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import type { Client } from '@libsql/client'
import { InProcessBus } from '../shared/bus/in-process.js'
import type { CommandEnvelope, CommandInput, CommandName } from '../shared/commands.js'
import { type Config, loadConfig } from '../shared/config.js'
import { migrate } from '../shared/db/migrations.js'
import { type ReadModelOptions, withReadModel } from '../shared/db/read-model.js'
import { createRepositories } from '../shared/db/repositories/index.js'
import type {
  Repositories,
  SessionPatch,
  SessionRecord,
  StatusRecord,
  UploadRecord,
} from '../shared/db/types.js'
import type { EventMessage } from '../shared/events.js'
import type { HealthProbe } from '../shared/health.js'
// The db entry also loads Baileys (auth state); tests need only these parts of it.
import { openDatabase } from '../shared/node/db-client.js'
import { LocalMediaStore } from '../shared/node/local-media-store.js'
import { randomHex } from '../shared/random.js'
import { chunkSizes } from '../shared/status-jobs.js'
import type { MediaStore } from '../shared/storage/types.js'
import { uploadLinkSecretFromApiKey } from '../shared/storage/upload-signature.js'
import { createApp } from './app.js'
import type { App, AppDeps, AppLogger, HostResolver } from './types.js'

/**
 * One fixture for the API tests: a real libSQL file and media folder in a temp dir, the real
 * in-process bus with a stand-in connector, and the app built by `createApp`.
 */

export const TEST_API_KEY = 'test-api-key-0123456789abcdef'

/** Smallest files `file-type` recognises, for upload tests. */
export const fixtures = {
  png: Uint8Array.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
    0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
  ]),
  jpeg: Uint8Array.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
  ]),
  mp4: Uint8Array.from([
    0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0x00, 0x00, 0x02, 0x00, 0x69,
    0x73, 0x6f, 0x6d, 0x69, 0x73, 0x6f, 0x32, 0x00, 0x00, 0x00, 0x08, 0x66, 0x72, 0x65, 0x65,
  ]),
  text: new TextEncoder().encode('this is plain text, not an image\n'),
}

/** Bytes as the async iterable MediaStore.put takes. */
export async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part
}

/** Hostnames tests may use in URL statuses; anything else fails to resolve (no real DNS). */
export const testResolver: HostResolver = async (hostname) => {
  const table: Record<string, string[]> = {
    'media.example.com': ['93.184.215.14'],
    'rebind.example.com': ['93.184.215.14', '10.0.0.7'],
    'metadata.example.com': ['169.254.169.254'],
    'v6private.example.com': ['fd00::1'],
  }
  const found = table[hostname]
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
  return found
}

const SENT_MESSAGE_ID = '3EB0C78C1A4A5B2D8F9E'
const JOB_MESSAGE_ID = '3EB0C78C1A4A5B2D8F9F'

type Reply<N extends CommandName> = (input: CommandInput<N>, command: CommandEnvelope<N>) => unknown

/**
 * Plays the connector behind the bus: records every command and answers like the real one would.
 * Tests override one command's behaviour with `on(name, reply)`; `silence(name)` never answers.
 */
export class FakeConnector {
  readonly commands: CommandEnvelope[] = []
  private readonly overrides = new Map<CommandName, Reply<CommandName>>()

  constructor(
    private readonly repos: Repositories,
    private readonly clock: () => number,
  ) {}

  on<N extends CommandName>(name: N, reply: Reply<N>): this {
    this.overrides.set(name, reply as Reply<CommandName>)
    return this
  }

  silence(name: CommandName): this {
    return this.on(name, () => new Promise(() => {}))
  }

  commandsNamed<N extends CommandName>(name: N): CommandEnvelope<N>[] {
    return this.commands.filter((c): c is CommandEnvelope<N> => c.name === name)
  }

  readonly handle = async (command: CommandEnvelope): Promise<unknown> => {
    this.commands.push(command)
    const override = this.overrides.get(command.name)
    if (override) return override(command.input, command)
    return this.defaultReply(command)
  }

  /** The row the connector would store for a send it took on. */
  private storeStatus(
    input: CommandInput<'status.send'>,
    outcome: { state: 'sent' | 'pending'; contactCount: number },
    waMessageId = SENT_MESSAGE_ID,
  ) {
    const now = this.clock()
    return this.repos.statuses.insert({
      sessionId: input.sessionId,
      type: input.type,
      content: input.content,
      caption: input.caption ?? '',
      backgroundColor: input.backgroundColor ?? null,
      font: input.font ?? null,
      targetNumbers: input.targetNumbers.join(','),
      contactCount: outcome.contactCount,
      waMessageId,
      state: outcome.state,
      error: null,
      mediaFilename: input.type === 'image' || input.type === 'video' ? input.content : null,
      createdAt: now,
      expiresAt: now + 24 * 3_600_000,
    })
  }

  private async defaultReply(command: CommandEnvelope): Promise<unknown> {
    switch (command.name) {
      case 'session.delete':
        return { loggedOut: false }
      case 'status.revoke':
        return { revoked: true }
      case 'session.requestPairingCode': {
        const session = await this.repos.sessions.get(command.input.sessionId)
        return { pairingCode: 'ABCD1234', phoneNumber: session?.phoneNumber ?? '' }
      }
      case 'status.send': {
        const input = command.input as CommandInput<'status.send'>
        const status = await this.storeStatus(input, {
          state: 'sent',
          contactCount: input.targetNumbers.length,
        })
        return {
          statusId: status.id,
          waMessageId: SENT_MESSAGE_ID,
          contactCount: status.contactCount,
          type: input.type,
        }
      }
      case 'status.startJob': {
        // Stores the pending status and a running job of one chunk per 500 numbers, as the real one.
        const input = command.input as CommandInput<'status.startJob'>
        const status = await this.storeStatus(input, { state: 'pending', contactCount: 0 }, JOB_MESSAGE_ID)
        const now = status.createdAt
        const sizes = chunkSizes(input.targetNumbers.length, 500)
        const jobId = `job_${randomHex(8)}`
        await this.repos.statusJobs.insert({
          sessionId: input.sessionId,
          id: jobId,
          statusId: status.id,
          waMessageId: JOB_MESSAGE_ID,
          state: 'running',
          chunkSize: 500,
          recipientsTotal: input.targetNumbers.length,
          chunks: sizes.map((size) => ({ size, state: 'pending', attempts: 0, error: null, sentAt: null })),
          error: null,
          createdAt: now,
          updatedAt: now,
          finishedAt: null,
        })
        return {
          jobId,
          statusId: status.id,
          waMessageId: JOB_MESSAGE_ID,
          recipientsTotal: input.targetNumbers.length,
          chunksTotal: sizes.length,
        }
      }
      default:
        return { ok: true }
    }
  }
}

export interface TestContextOptions {
  /** Environment overrides, as strings like the real environment. */
  env?: Record<string, string>
  /**
   * Scales command timeouts (default 0.1, roomy for the stand-in connector's db writes); 0.001 makes
   * a silent connector time out within milliseconds.
   */
  timeoutScale?: number
  /** Leave the bus without a connector (commands fail with 503). */
  noConnector?: boolean
  clock?: () => number
  /** Lets a test hand the app a changed view of the repositories (e.g. one that fails). */
  wrapRepos?: (repos: Repositories) => Repositories
  /** What the health check reports on (default: nothing to probe, all up). */
  health?: HealthProbe
  /** Another media store (e.g. S3 against a test server); default: a local folder in the temp dir. */
  media?: MediaStore
  /** How the app's read model learns about changes (default: exact, as the embedded product). */
  readModel?: ReadModelOptions
  logger?: AppLogger
}

export interface TestContext {
  app: App
  /** What `app` was built from: a twin built from the same deps shares its database and bus. */
  deps: AppDeps
  config: Config
  repos: Repositories
  media: MediaStore
  bus: InProcessBus
  connector: FakeConnector
  client: Client
  dir: string
  /** Every event published on the bus, in order. */
  events: EventMessage[]
  /** A request with the API key (unless `headers` replaces it) against the app. */
  request(path: string, init?: RequestInit & { apiKey?: string | null }): Promise<Response>
  json(path: string, method: string, body: unknown): Promise<Response>
  seedSession(id: string, patch?: SessionPatch): Promise<SessionRecord>
  seedStatus(
    sessionId: string,
    fields?: Partial<Omit<StatusRecord, 'id' | 'sessionId'>>,
  ): Promise<StatusRecord>
  seedUpload(kind: 'image' | 'video'): Promise<UploadRecord>
  close(): Promise<void>
}

export const createTestContext = async (options: TestContextOptions = {}): Promise<TestContext> => {
  const dir = await mkdtemp(join(tmpdir(), 'api-test-'))
  const client = await openDatabase(`file:${join(dir, 'test.db')}`)
  await migrate(client)
  // As the embedded product runs it (unless told otherwise): every write goes through this object,
  // so reads are exact. Tests play "another process" with their own createRepositories(client).
  const repos = withReadModel(createRepositories(client), options.readModel ?? { consistency: 'exact' })
  const clock = options.clock ?? Date.now
  const config = loadConfig({
    API_KEY: TEST_API_KEY,
    MAX_UPLOAD_MB: '1',
    RATE_LIMIT_MAX: '10000',
    RATE_LIMIT_ANON_MAX: '10000',
    DATA_DIR: dir,
    ...options.env,
  })
  const localMedia = new LocalMediaStore({
    dir: join(dir, 'media'),
    publicUrl: 'http://localhost:3000',
    secret: uploadLinkSecretFromApiKey(TEST_API_KEY),
    clock,
  })
  const media = options.media ?? localMedia
  const bus = new InProcessBus({ timeoutScale: options.timeoutScale ?? 0.1 })
  const events: EventMessage[] = []
  bus.subscribe((message) => events.push(message))
  const connector = new FakeConnector(repos, clock)
  if (!options.noConnector) bus.serve(connector.handle)
  const deps: AppDeps = {
    config,
    repos: options.wrapRepos ? options.wrapRepos(repos) : repos,
    commands: bus,
    events: bus,
    media,
    ...(options.health ? { health: options.health } : {}),
    apiKey: TEST_API_KEY,
    version: '2.0.0-test',
    startedAt: clock() - 5_000,
    clock,
    resolveHost: testResolver,
    ...(options.logger ? { logger: options.logger } : {}),
  }
  const app = createApp(deps)

  const request: TestContext['request'] = (path, init = {}) => {
    const { apiKey = TEST_API_KEY, ...rest } = init
    const headers = new Headers(rest.headers)
    if (apiKey !== null && !headers.has('x-api-key') && !headers.has('authorization'))
      headers.set('x-api-key', apiKey)
    return Promise.resolve(app.request(path, { ...rest, headers }))
  }

  return {
    app,
    deps,
    config,
    repos,
    media,
    bus,
    connector,
    client,
    dir,
    events,
    request,
    json: (path, method, body) =>
      request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    async seedSession(id, patch = {}) {
      await repos.sessions.create({
        id,
        name: `Session ${id}`,
        authMethod: 'pairing',
        phoneNumber: '628123456789',
        state: 'created',
        ownNumber: null,
        ownJid: null,
        ownLid: null,
        pairingCode: null,
        qrCode: null,
        lastError: null,
      })
      const updated =
        Object.keys(patch).length > 0 ? await repos.sessions.update(id, patch) : await repos.sessions.get(id)
      if (!updated) throw new Error(`seeded session ${id} vanished`)
      return updated
    },
    seedStatus(sessionId, fields = {}) {
      const now = clock()
      return repos.statuses.insert({
        sessionId,
        type: 'text',
        content: 'Hello',
        caption: '',
        backgroundColor: null,
        font: null,
        targetNumbers: '628123456789',
        contactCount: 1,
        waMessageId: 'WAMSG1',
        state: 'sent',
        error: null,
        mediaFilename: null,
        createdAt: now,
        expiresAt: now + 24 * 3_600_000,
        ...fields,
      })
    },
    async seedUpload(kind) {
      const bytes = kind === 'image' ? fixtures.png : fixtures.mp4
      const filename = `${clock()}-${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}.${kind === 'image' ? 'png' : 'mp4'}`
      const { size } = await media.put(filename, chunks(bytes), { maxBytes: 1024, contentType: 'x' })
      const record: UploadRecord = {
        filename,
        kind,
        mime: kind === 'image' ? 'image/png' : 'video/mp4',
        size,
        createdAt: clock(),
      }
      await repos.uploads.insert(record)
      return record
    },
    async close() {
      await bus.close()
      client.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Parses a JSON response body with a loose type for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary response shapes
export const body = async (response: Response): Promise<any> => response.json()

export interface ListeningApp {
  port: number
  /** `http://127.0.0.1:<port>` */
  base: string
  close(): Promise<void>
}

/**
 * `app` behind a real @hono/node-server socket on a free loopback port. `close()` also drops
 * keep-alive sockets (and a request body still being drained after an early answer), which would
 * hold `server.close()` open.
 */
export const listenOnSocket = async (app: App): Promise<ListeningApp> => {
  let server: ReturnType<typeof serve> | undefined
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve())
  })
  const http = server as unknown as Server
  const { port } = http.address() as AddressInfo
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise((resolve) => http.close(resolve))
      http.closeAllConnections()
      await closed
    },
  }
}
