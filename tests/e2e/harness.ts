/**
 * The end-to-end fixture: the simulator plays WhatsApp (the owner's phone and the contacts), the
 * product runs whole — embedded (`startEmbedded`: REST + Socket.IO on one port, libSQL file, local
 * media) or split (API + two connectors over Redis, S3 and a shared libSQL file) — and the tests
 * reach it only the way a user does: HTTP with the API key and a Socket.IO client.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import pino from 'pino'
import { io, type Socket } from 'socket.io-client'
import { expect, inject, vi } from 'vitest'
import { type ApiProcess, startApi } from '../../api/node.js'
import { type ConnectorProcess, startConnector } from '../../connector/main.js'
import { type EmbeddedOptions, startEmbedded } from '../../embedded/embedded.js'
import { loadConfig } from '../../shared/config.js'
import type { EventMessage, EventName, ServerEvents } from '../../shared/events.js'
import { openDatabase } from '../../shared/node/db-client.js'
import { LocalMediaStore } from '../../shared/node/local-media-store.js'
import { S3MediaStore, s3StoreOptions } from '../../shared/storage/s3.js'
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { readTlsMaterial } from '../sim/media.js'
import { WaSimulator } from '../sim/server.js'
import { RedisServer } from '../support/redis-server.js'
import { S3TestServer } from '../support/s3-server.js'

/** How long to wait for anything that crosses the product, Baileys and the simulator. */
export const EVENTUALLY = { timeout: 15_000, interval: 25 }

// ── API client ─────────────────────────────────────────────────────────────────────────────────

export interface ApiResponse<T> {
  status: number
  /** `data` of a success envelope (typed by the caller). */
  data: T
  /** `error` of a failure envelope. */
  error: string | undefined
}

/** `fetch` against the product's REST API with its key, returning the envelope's parts. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  get<T = Record<string, unknown>>(path: string): Promise<ApiResponse<T>> {
    return this.call<T>('GET', path)
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<ApiResponse<T>> {
    return this.call<T>('POST', path, body)
  }

  delete<T = Record<string, unknown>>(path: string): Promise<ApiResponse<T>> {
    return this.call<T>('DELETE', path)
  }

  /** Multipart upload (`/api/upload-image` or `/api/upload-video`); returns the stored filename. */
  async upload(kind: 'image' | 'video', bytes: Uint8Array, name: string): Promise<string> {
    const form = new FormData()
    form.append(kind, new Blob([Uint8Array.from(bytes)]), name)
    const response = await fetch(`${this.baseUrl}/api/upload-${kind}`, {
      method: 'POST',
      headers: { 'x-api-key': this.apiKey },
      body: form,
    })
    const json = (await response.json()) as { filename?: string; error?: string }
    if (response.status !== 201 || !json.filename) {
      throw new Error(`upload failed: ${response.status} ${json.error ?? ''}`)
    }
    return json.filename
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        'x-api-key': this.apiKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const json = (await response.json()) as { data?: T; error?: string }
    return { status: response.status, data: json.data as T, error: json.error }
  }
}

// ── Socket.IO event recorder ───────────────────────────────────────────────────────────────────

interface EventQuery<E extends EventName> {
  sessionId?: string
  /** Only events recorded at or after this position (see `mark()`). */
  since?: number
  where?: (payload: ServerEvents[E]) => boolean
}

/** A Socket.IO client that keeps every event the product emits, in arrival order. */
export class EventRecorder {
  readonly received: EventMessage[] = []

  private constructor(private readonly socket: Socket) {
    socket.onAny((event: string, payload: unknown) => {
      // The server emits only the events of the map, each with its own payload.
      this.received.push({ event, payload } as EventMessage)
    })
  }

  /** Connects with the API key and resolves once the server has accepted the client. */
  static async connect(url: string, apiKey: string): Promise<EventRecorder> {
    const socket = io(url, { auth: { apiKey }, transports: ['websocket'], reconnection: false })
    const recorder = new EventRecorder(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    })
    return recorder
  }

  /** The position of the next event, to look only at what happens after now. */
  mark(): number {
    return this.received.length
  }

  /** Payloads of one event, in order. */
  of<E extends EventName>(event: E, query: EventQuery<E> = {}): ServerEvents[E][] {
    return this.received
      .slice(query.since ?? 0)
      .filter((message) => message.event === event)
      .map((message) => message.payload as ServerEvents[E])
      .filter(
        (payload) =>
          (!query.sessionId || payload.sessionId === query.sessionId) && (query.where?.(payload) ?? true),
      )
  }

  /** Waits for the first matching event and returns its payload. */
  async waitFor<E extends EventName>(
    event: E,
    query: EventQuery<E> = {},
    timeout = EVENTUALLY.timeout,
  ): Promise<ServerEvents[E]> {
    return vi.waitFor(
      () => {
        const [found] = this.of(event, query)
        if (!found) throw new Error(`no ${event} event ${JSON.stringify({ ...query, where: undefined })}`)
        return found
      },
      { ...EVENTUALLY, timeout },
    )
  }

  close(): void {
    this.socket.close()
  }
}

// ── the product and the simulator ──────────────────────────────────────────────────────────────

/**
 * How the product runs: `embedded` (one process, `startEmbedded`) or `split` (the API and two
 * connectors, each started by its real entry function, reaching each other only through a real
 * Redis, a real S3 API (s3rver) and one shared libSQL file, as separate processes would).
 */
export type Mode = 'embedded' | 'split'
export const MODES: readonly Mode[] = ['embedded', 'split']

export interface ProductOptions {
  /** Reuse a data directory (a restart of the product); default: a fresh temp dir. */
  dataDir?: string
  /** Environment variables on top of the e2e defaults. */
  env?: Record<string, string>
  connector?: EmbeddedOptions['connector']
}

export interface Product {
  mode: Mode
  /** The product's database (the file every process of it shares). */
  db: Client
  dataDir: string
  apiKey: string
  api: ApiClient
  events: EventRecorder
  /** Whether the media store holds this upload (the local folder, or the S3 bucket). */
  mediaExists(filename: string): Promise<boolean>
  /** Split mode: the connectors, to find out which one holds a session. */
  connectors: ConnectorProcess[]
  /** Stops the product the way a shutdown does (sessions stay linked for the next start). */
  stop(): Promise<void>
}

/** Media a `url` status "finds" in these tests: nothing ever leaves the machine. */
export type UrlMediaStandIn = NonNullable<NonNullable<EmbeddedOptions['connector']>['fetchUrlMedia']>

/** The default stand-in for the connector's URL download: every URL holds no media (→ text). */
export const noUrlMedia: UrlMediaStandIn = async () => ({ kind: null, bytes: null, mimetype: null })

export interface Testbed {
  mode: Mode
  sim: WaSimulator
  startProduct(options?: ProductOptions): Promise<Product>
  /** Stops every product started here, then the simulator, and removes the data dirs. */
  close(): Promise<void>
}

const SPLIT_API_KEY = 'e2e-split-api-key-0123456789'

/** What the split mode needs beside the product: started once per testbed, on first use. */
interface SplitInfra {
  redis: RedisServer
  s3: S3TestServer
}

/**
 * A simulator plus a way to start products against it. The simulator's upload host uses the TLS
 * material of the global setup, whose CA every worker trusts through NODE_EXTRA_CA_CERTS.
 */
export const startTestbed = async ({ mode = 'embedded' }: { mode?: Mode } = {}): Promise<Testbed> => {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error('NODE_EXTRA_CA_CERTS is not set: run the e2e suite through vitest (see vitest.config.ts)')
  }
  const sim = await WaSimulator.start({ controlPort: false, tls: await readTlsMaterial(inject('simTlsDir')) })
  const products: Product[] = []
  const dataDirs = new Set<string>()
  let infra: SplitInfra | null = null

  const baseEnv = (dataDir: string, options: ProductOptions): Record<string, string> => ({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    WA_WS_URL: sim.wsUrl,
    WA_UPLOAD_HOSTS: sim.uploadHost,
    STATUS_ACK_TIMEOUT_MS: '5000',
    // The tests poll the REST API; the per-IP limit is not what they are about.
    RATE_LIMIT_MAX: '1000000',
    ...options.env,
  })
  const connectorOverrides = (options: ProductOptions) => ({
    backoff: { baseMs: 50, maxMs: 500, jitter: 0 },
    fetchUrlMedia: noUrlMedia,
    ...options.connector,
  })

  const startEmbeddedProduct = async (dataDir: string, options: ProductOptions) => {
    const server = await startEmbedded({
      config: loadConfig(baseEnv(dataDir, options)),
      logger: pino({ level: 'silent' }),
      connector: connectorOverrides(options),
    })
    const media = new LocalMediaStore({
      dir: join(dataDir, 'media'),
      publicUrl: 'http://unused',
      secret: 'unused',
    })
    return {
      db: server.db,
      port: server.port,
      apiKey: server.apiKey.key,
      mediaExists: (filename: string) => media.exists(filename),
      connectors: [] as ConnectorProcess[],
      stop: () => server.stop(),
    }
  }

  const startSplitProduct = async (dataDir: string, options: ProductOptions) => {
    infra ??= { redis: await RedisServer.start(), s3: await S3TestServer.start() }
    const env = {
      ...baseEnv(dataDir, options),
      API_KEY: SPLIT_API_KEY,
      LIBSQL_URL: `file:${join(dataDir, 'tracker.db')}`,
      REDIS_URL: infra.redis.url,
      ...infra.s3.env,
      // Short leases: a connector that goes away hands its sessions over within seconds.
      SESSION_LEASE_MS: '3000',
      ...options.env,
    }
    const logger = pino({ level: 'silent' })
    const connectors: ConnectorProcess[] = []
    let api: ApiProcess | null = null
    try {
      for (const id of ['connector-1', 'connector-2']) {
        connectors.push(
          await startConnector(
            loadConfig({ ...env, ROLE: 'connector', CONNECTOR_ID: id }),
            logger,
            connectorOverrides(options),
          ),
        )
      }
      api = await startApi(loadConfig({ ...env, ROLE: 'api' }), logger)
    } catch (error) {
      await Promise.allSettled(connectors.map((c) => c.stop()))
      throw error
    }
    const db = await openDatabase(env.LIBSQL_URL)
    const media = new S3MediaStore(s3StoreOptions(loadConfig({ ...env, ROLE: 'api' })))
    const running = api
    return {
      db,
      port: running.port,
      apiKey: SPLIT_API_KEY,
      mediaExists: (filename: string) => media.exists(filename),
      connectors,
      stop: async () => {
        await running.stop()
        await Promise.allSettled(connectors.map((c) => c.stop()))
        media.close()
        db.close()
      },
    }
  }

  const startProduct = async (options: ProductOptions = {}): Promise<Product> => {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'wst-e2e-')))
    dataDirs.add(dataDir)
    const started =
      mode === 'split'
        ? await startSplitProduct(dataDir, options)
        : await startEmbeddedProduct(dataDir, options)
    // The address it listens on, whatever `localhost` resolves to here.
    const baseUrl = `http://127.0.0.1:${started.port}`
    let events: EventRecorder
    try {
      events = await EventRecorder.connect(baseUrl, started.apiKey)
    } catch (error) {
      await started.stop()
      throw error
    }
    let stopped: Promise<void> | null = null
    const product: Product = {
      mode,
      db: started.db,
      dataDir,
      apiKey: started.apiKey,
      api: new ApiClient(baseUrl, started.apiKey),
      events,
      mediaExists: started.mediaExists,
      connectors: started.connectors,
      stop: () => {
        stopped ??= (async () => {
          events.close()
          await started.stop()
        })()
        return stopped
      },
    }
    products.push(product)
    return product
  }

  return {
    mode,
    sim,
    startProduct,
    async close() {
      await Promise.all(products.map((product) => product.stop()))
      await sim.stop()
      if (infra) await Promise.allSettled([infra.redis.stop(), infra.s3.close()])
      await Promise.all([...dataDirs].map((dir) => rm(dir, { recursive: true, force: true })))
    },
  }
}

// ── linking ────────────────────────────────────────────────────────────────────────────────────

export interface SessionToLink {
  sessionId: string
  phone: string
}

const waitConnected = (product: Product, sessionId: string) =>
  product.events.waitFor('connection-status', { sessionId, where: (e) => e.connected })

/** Creates a QR session, lets the phone of `phone` scan the QR the product shows, waits for open. */
export const linkByQr = async (
  product: Product,
  sim: WaSimulator,
  { sessionId, phone }: SessionToLink,
): Promise<ServerEvents['connection-status']> => {
  const created = await product.api.post('/api/sessions', {
    sessionId,
    sessionName: `QR ${sessionId}`,
    authMethod: 'qrcode',
  })
  expect(created.status).toBe(201)
  const { qrCode } = await product.events.waitFor('qr-code', { sessionId })
  await sim.scanQr(decodeQrDataUrl(qrCode), phone)
  return waitConnected(product, sessionId)
}

/** Creates a pairing-code session and enters the code the product shows on the phone of `phone`. */
export const linkByPairingCode = async (
  product: Product,
  sim: WaSimulator,
  { sessionId, phone }: SessionToLink,
): Promise<ServerEvents['connection-status']> => {
  const created = await product.api.post('/api/sessions', {
    sessionId,
    sessionName: `Pairing ${sessionId}`,
    authMethod: 'pairing',
    phoneNumber: phone,
  })
  expect(created.status).toBe(201)
  const { pairingCode } = await product.events.waitFor('pairing-code', { sessionId })
  await sim.enterPairingCode(phone, pairingCode)
  return waitConnected(product, sessionId)
}
