import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Client } from '@libsql/client'
import { Miniflare } from 'miniflare'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { createApp } from '../../api/app.js'
import { fixtures } from '../../api/test-support.js'
import type { App } from '../../api/types.js'
import { workerConfig } from '../../api/worker.js'
import { verifyWebhookSignature } from '../../client/webhooks.js'
import { type ConnectorProcess, startConnector } from '../../connector/main.js'
import { RedisCommandClient, RedisEventPublisher } from '../../shared/bus/redis-command-client.js'
import { loadConfig } from '../../shared/config.js'
import { migrate } from '../../shared/db/migrations.js'
import { createRepositories } from '../../shared/db/repositories/index.js'
import { Messages } from '../../shared/errors.js'
import { parseHeadersRules } from '../../shared/node/dashboard-assets.js'
import { openDatabase } from '../../shared/node/db-client.js'
import { nodeRedisCommands } from '../../shared/node/node-redis.js'
import type { RedisCommands } from '../../shared/redis/types.js'
import { rateLimiterFromConfig } from '../../shared/security/rate-limit.js'
import { RedisRateLimiter } from '../../shared/security/redis-rate-limit.js'
import { S3MediaStore, s3StoreOptions } from '../../shared/storage/s3.js'
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { EventRecorder, noUrlMedia } from '../e2e/harness.js'
import { readTlsMaterial } from '../sim/media.js'
import { WaSimulator } from '../sim/server.js'
import { LibsqlHttpServer } from '../support/libsql-http.js'
import { RedisServer } from '../support/redis-server.js'
import { S3TestServer } from '../support/s3-server.js'
import { UpstashShim } from '../support/upstash-shim.js'
import { WebhookReceiver } from '../support/webhook-receiver.js'
import { buildWorker, bundleViolations, wranglerSettings } from './bundle-check.js'

/**
 * The Workers entry, bundled by wrangler exactly as a deploy would bundle it and run by workerd
 * (Miniflare), against real services on loopback: Redis behind the Upstash REST protocol, a libSQL
 * server over HTTP on a real file, s3rver (SigV4 checked), the WhatsApp simulator and a Node
 * connector sharing all three. Nothing here is mocked: each request crosses the same wire a deployed
 * worker would use.
 */

const API_KEY = 'workers-test-api-key-0123456789'
const LIBSQL_TOKEN = 'workers-test-libsql-token'
/** Small, so the shared budget test reaches the limit quickly; every other test sends a key. */
const ANON_MAX = 5
const POLL = { timeout: 20_000, interval: 50 }

let dir: string
let redis: RedisServer
let shim: UpstashShim
let libsql: LibsqlHttpServer
let s3: S3TestServer
let sim: WaSimulator
let receiver: WebhookReceiver
let nodeDb: Client
let tcpRedis: RedisCommands
let store: S3MediaStore
let connector: ConnectorProcess
let mf: Miniflare
let base: URL
let bundleProblems: string[]
/** The build's `_headers` file as the asset rules wrangler hands the platform. */
const assetHeaders = async (directory: string) => {
  const rules = parseHeadersRules(await readFile(join(directory, '_headers'), 'utf8'))
  return {
    version: 2 as const,
    rules: Object.fromEntries(Object.entries(rules).map(([path, set]) => [path, { set }])),
  }
}

/** Everything the worker wrote to the console, as workerd reports it. */
const workerLogs: { level: string; message: string }[] = []
let compat: { compatibilityDate: string; compatibilityFlags: string[]; assetsDirectory: string | null }
/** The settings the worker and the Node processes share. */
let sharedEnv: Record<string, string>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wst-workers-'))
  const [built, settings] = await Promise.all([buildWorker(join(dir, 'worker')), wranglerSettings()])
  bundleProblems = bundleViolations(built.metafile)
  compat = settings

  redis = await RedisServer.start()
  const dbFile = `file:${join(dir, 'tracker.db')}`
  // The worker never migrates (the Node processes do): bring the file's schema up first.
  nodeDb = await openDatabase(dbFile)
  await migrate(nodeDb)
  ;[shim, libsql, s3, sim] = await Promise.all([
    UpstashShim.start({ redisUrl: redis.url }),
    LibsqlHttpServer.start({ file: dbFile, authToken: LIBSQL_TOKEN }),
    S3TestServer.start(),
    WaSimulator.start({ controlPort: false, tls: await readTlsMaterial(inject('simTlsDir')) }),
  ])
  tcpRedis = await nodeRedisCommands(redis.url)
  receiver = await WebhookReceiver.start()
  sharedEnv = {
    API_KEY,
    WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
    ...s3.env,
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_ANON_MAX: String(ANON_MAX),
    LOG_LEVEL: 'warn',
  }
  store = new S3MediaStore(s3StoreOptions(loadConfig(sharedEnv)))

  connector = await startConnector(
    loadConfig({
      ...sharedEnv,
      ROLE: 'connector',
      CONNECTOR_ID: 'connector-1',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      LIBSQL_URL: dbFile,
      REDIS_URL: redis.url,
      WA_WS_URL: sim.wsUrl,
      WA_UPLOAD_HOSTS: sim.uploadHost,
      STATUS_ACK_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'silent',
    }),
    pino({ level: 'silent' }),
    { backoff: { baseMs: 50, maxMs: 500, jitter: 0 }, fetchUrlMedia: noUrlMedia },
  )

  mf = new Miniflare({
    modules: true,
    scriptPath: built.scriptPath,
    // Module names are relative to this root; the bundle lives outside the repo (a temp dir).
    modulesRoot: dirname(built.scriptPath),
    compatibilityDate: compat.compatibilityDate,
    compatibilityFlags: compat.compatibilityFlags,
    host: '127.0.0.1',
    port: 0,
    // No request.cf lookup on the internet; the tests need none of its fields.
    cf: false,
    structuredWorkerdLogs: true,
    handleStructuredLogs: (entry: { level: string; message: string }) => {
      workerLogs.push({ level: entry.level, message: entry.message })
    },
    // The dashboard, served by the platform before the worker, as wrangler.toml's [assets] says.
    ...(settings.assetsDirectory
      ? {
          assets: {
            directory: settings.assetsDirectory,
            routerConfig: { has_user_worker: true },
            assetConfig: { headers: await assetHeaders(settings.assetsDirectory) },
          },
        }
      : {}),
    bindings: {
      ...sharedEnv,
      LIBSQL_URL: libsql.url,
      LIBSQL_AUTH_TOKEN: LIBSQL_TOKEN,
      UPSTASH_REDIS_REST_URL: shim.url,
      UPSTASH_REDIS_REST_TOKEN: shim.token,
    },
  })
  base = await mf.ready
}, 90_000)

afterAll(async () => {
  // Each step on its own: one that fails (a runtime that never started) must not leave the
  // servers after it running.
  const steps: (() => unknown)[] = [
    () => mf?.dispose(),
    () => connector?.stop(),
    () => sim?.stop(),
    () => receiver?.close(),
    () => store?.close(),
    () => tcpRedis?.close(),
    () => nodeDb?.close(),
    () => Promise.allSettled([libsql?.close(), shim?.close(), s3?.close()]),
    () => redis?.stop(),
    () => dir && rm(dir, { recursive: true, force: true }),
  ]
  for (const step of steps)
    await Promise.resolve()
      .then(step)
      .catch(() => {})
})

interface Envelope<T> {
  status: number
  headers: Headers
  body: { success: boolean; data: T; error?: string; [key: string]: unknown }
}

/**
 * `fetch` to the worker on a fresh connection each time. workerd may close a kept-alive
 * connection just as the next request goes out on it (Miniflare's own dispatcher forces
 * `reset` for this reason); CI met it once as "other side closed". The race is the test
 * client's, not the product's, so every request to workerd here asks for `Connection: close`.
 */
const fetchWorker = (url: URL, init: RequestInit = {}) => {
  const headers = new Headers(init.headers)
  headers.set('connection', 'close')
  return fetch(url, { ...init, headers })
}

/** A request to the worker over real HTTP, with the key unless `key: null`. */
const call = async <T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {},
): Promise<Envelope<T>> => {
  const key = options.key === undefined ? API_KEY : options.key
  const response = await fetchWorker(new URL(path, base), {
    method,
    headers: {
      ...(key ? { 'x-api-key': key } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Envelope<T>['body'],
  }
}

const uploadImage = async (bytes: Uint8Array, name: string) => {
  const form = new FormData()
  form.append('image', new Blob([Uint8Array.from(bytes)], { type: 'image/png' }), name)
  const response = await fetchWorker(new URL('/api/upload-image', base), {
    method: 'POST',
    headers: { 'x-api-key': API_KEY },
    body: form,
  })
  return { status: response.status, body: (await response.json()) as { filename?: string; error?: string } }
}

describe('the API on Cloudflare Workers (workerd via Miniflare)', () => {
  it('is bundled without Node-only code and with the settings of wrangler.toml', () => {
    expect(bundleProblems).toEqual([])
    expect(compat.compatibilityDate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    // A Node import must fail the build instead of being polyfilled away.
    expect(compat.compatibilityFlags).not.toContain('nodejs_compat')
  })

  it('serves the dashboard from static assets with its security headers, the API from the worker', async () => {
    expect(compat.assetsDirectory).not.toBeNull()
    const page = await fetchWorker(new URL('/', base))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'.*frame-ancestors 'none'/)
    const html = await page.text()
    expect(html).toContain('<div id="app">')
    const script = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)?.[1]
    expect(script).toBeDefined()
    expect(
      (await readdir(join(compat.assetsDirectory!, 'assets'))).map((name) => `/assets/${name}`),
    ).toContain(script)
    const asset = await fetchWorker(new URL(script!, base))
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toMatch(/immutable/)
    await asset.arrayBuffer()
    // No file of that name: the worker answers, with the API's own headers.
    const health = await call('GET', '/api/health', { key: null })
    expect(health.status).toBe(200)
    expect(health.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
  })

  it('answers health with every component up, the connector found through Redis', async () => {
    const health = await vi.waitFor(async () => {
      const res = await call<{ status: string; components: Record<string, string> }>('GET', '/api/health', {
        key: null,
      })
      expect(res.status).toBe(200)
      expect(res.body.data).toMatchObject({
        status: 'healthy',
        components: { db: 'up', redis: 'up', storage: 'up', connectors: 'up' },
      })
      return res
    }, POLL)
    // Only callers with the key learn how the deployment is laid out.
    expect(health.body.data).not.toHaveProperty('connectors')
    const keyed = await call<{ connectors: { id: string }[] }>('GET', '/api/health')
    expect(keyed.body.data.connectors).toEqual([expect.objectContaining({ id: 'connector-1' })])
    // Both came over HTTP: the libSQL server and the Upstash REST shim served them.
    expect(libsql.requests).toBeGreaterThan(0)
    expect(shim.requests).toBeGreaterThan(0)
  })

  it('serves a keyed request and refuses a keyless one with 401', async () => {
    const listed = await call<unknown[]>('GET', '/api/sessions')
    expect(listed.status).toBe(200)
    expect(listed.body).toMatchObject({ success: true })
    expect(Array.isArray(listed.body.data)).toBe(true)

    const keyless = await call('GET', '/api/sessions', { key: null })
    expect(keyless.status).toBe(401)
    expect(keyless.body.success).toBe(false)
    const wrongKey = await call('GET', '/api/sessions', { key: 'not-the-key-0123456789' })
    expect(wrongKey.status).toBe(401)
  })

  it('shares one rate-limit budget with a Node API through Redis', async () => {
    // The Node API of ROLE=api: the same createApp, Redis over TCP instead of the REST API.
    const config = loadConfig({ ...sharedEnv, ROLE: 'api', LIBSQL_URL: 'file:unused', REDIS_URL: redis.url })
    const nodeApp: App = createApp({
      config,
      repos: createRepositories(nodeDb),
      commands: new RedisCommandClient(tcpRedis),
      events: new RedisEventPublisher(tcpRedis),
      media: store,
      apiKey: API_KEY,
      version: 'test',
      startedAt: Date.now(),
      rateLimiter: new RedisRateLimiter(tcpRedis, {
        limits: { keyed: config.RATE_LIMIT_MAX, anonymous: config.RATE_LIMIT_ANON_MAX },
        windowMs: config.RATE_LIMIT_WINDOW_MS,
        clock: Date.now,
        fallback: rateLimiterFromConfig(config),
      }),
    })
    // One client, as the edge names it; both APIs read it from CF-Connecting-IP.
    const headers = { 'cf-connecting-ip': '203.0.113.77' }
    const viaWorker = async () => {
      const res = await call('GET', '/api/sessions', { key: null, headers })
      return { status: res.status, remaining: res.headers.get('ratelimit-remaining') }
    }
    const viaNode = async () => {
      const res = await nodeApp.request('/api/sessions', { headers })
      return { status: res.status, remaining: res.headers.get('ratelimit-remaining') }
    }
    const seen = []
    for (const via of [viaWorker, viaNode, viaWorker, viaNode, viaWorker]) seen.push(await via())
    expect(seen).toEqual(
      Array.from({ length: ANON_MAX }, (_, i) => ({ status: 401, remaining: String(ANON_MAX - 1 - i) })),
    )
    // The budget is spent, whichever of the two is asked next.
    expect((await viaNode()).status).toBe(429)
    expect((await viaWorker()).status).toBe(429)
    // Another client still has its own budget.
    expect(
      (await call('GET', '/api/sessions', { key: null, headers: { 'cf-connecting-ip': '203.0.113.78' } }))
        .status,
    ).toBe(401)
  })

  it('streams a multipart image upload into S3, small and in several parts', async () => {
    const small = await uploadImage(fixtures.png, 'tiny.png')
    expect(small.status).toBe(201)
    expect(await store.read(small.body.filename ?? '')).toEqual(new Uint8Array(fixtures.png))
    // The type comes from the bytes, not the name, here as on Node.
    const text = await uploadImage(fixtures.text, 'not-really.png')
    expect(text.status).toBe(415)

    // Past one 5 MiB part, lib-storage switches to a multipart upload (create, parts, complete).
    const large = new Uint8Array(6 * 1024 * 1024 + 123)
    large.set(fixtures.png)
    for (let i = fixtures.png.length; i < large.length; i++) large[i] = i % 251
    const big = await uploadImage(large, 'large.png')
    expect(big.status).toBe(201)
    const stored = await store.read(big.body.filename ?? '')
    expect(stored?.byteLength).toBe(large.byteLength)
    expect(Buffer.compare(Buffer.from(stored ?? []), Buffer.from(large))).toBe(0)
  })

  it('hands out a presigned S3 PUT that the store accepts, for that type only', async () => {
    const bytes = fixtures.png
    const link = await call<{
      filename: string
      uploadUrl: string
      method: string
      headers: Record<string, string>
    }>('POST', '/api/uploads', { body: { type: 'image', contentType: 'image/png', size: bytes.byteLength } })
    expect(link.status).toBe(201)
    const { filename, uploadUrl, method, headers } = link.body.data
    expect(method).toBe('PUT')
    expect(uploadUrl.startsWith(`${s3.endpoint}/${s3.bucket}/`)).toBe(true)

    // The signature covers the content type: another one is refused by the store itself.
    const forged = await fetch(uploadUrl, {
      method: 'PUT',
      headers: { 'Content-Type': 'video/mp4' },
      body: Uint8Array.from(bytes),
    })
    expect(forged.status).toBe(403)
    await forged.body?.cancel()

    const put = await fetch(uploadUrl, { method: 'PUT', headers, body: Uint8Array.from(bytes) })
    expect(put.status).toBe(200)
    await put.body?.cancel()
    expect(await store.read(filename)).toEqual(new Uint8Array(bytes))
  })

  it('links a session created through the worker on a Node connector and gets a status posted through it acked', async () => {
    const owner = sim.createAccount({ phone: '15550009001' })
    const contact = sim.createAccount({ phone: '15550009002', pushName: 'Dana' })
    const sessionId = 'edge'
    // Workers hold no Socket.IO server: clients attach to a connector, which relays what the
    // worker publishes through Redis and emits its own events.
    const events = await EventRecorder.connect(`http://127.0.0.1:${connector.port}`, API_KEY)

    const created = await call('POST', '/api/sessions', {
      body: { sessionId, sessionName: 'Created on the edge', authMethod: 'qrcode' },
    })
    expect(created.status).toBe(201)
    expect(await events.waitFor('session-created', { sessionId })).toMatchObject({
      sessionName: 'Created on the edge',
      authMethod: 'qrcode',
    })

    // The connector that leased the session shows the QR; the worker reads it from libSQL.
    const qrCode = await vi.waitFor(async () => {
      const res = await call<{ qrCode: string | null }>('GET', `/api/sessions/${sessionId}/qr-code`)
      expect(res.body.data.qrCode).toMatch(/^data:image\/png;base64,/)
      return res.body.data.qrCode ?? ''
    }, POLL)
    await sim.scanQr(decodeQrDataUrl(qrCode), owner.phone)

    await vi.waitFor(async () => {
      const res = await call<{ connected: boolean; connectorId: string | null; ownNumber: string | null }>(
        'GET',
        `/api/sessions/${sessionId}/connection-status`,
      )
      expect(res.body.data).toMatchObject({
        connected: true,
        connectorId: 'connector-1',
        ownNumber: owner.phone,
      })
    }, POLL)

    // No resolver on Workers, yet a literal internal address is refused here already.
    const internal = await call('POST', `/api/sessions/${sessionId}/send-status`, {
      body: { type: 'url', content: 'http://10.0.0.7/cat.png', targetNumbers: contact.phone },
    })
    expect(internal.status).toBe(400)

    const sent = await call<{ statusId: string; waMessageId: string; contactCount: number }>(
      'POST',
      `/api/sessions/${sessionId}/send-status`,
      {
        body: {
          type: 'text',
          content: 'Hello from the edge',
          backgroundColor: '#315575',
          font: 1,
          targetNumbers: contact.phone,
        },
      },
    )
    expect(sent.status).toBe(200)
    expect(sent.body.data).toMatchObject({ contactCount: 1 })
    const { statusId, waMessageId } = sent.body.data

    await vi.waitFor(() => {
      expect(sim.receivedStatuses(contact.phone).find((s) => s.id === waMessageId)).toMatchObject({
        from: owner.phone,
        kind: 'text',
        text: 'Hello from the edge',
      })
    }, POLL)
    const listed = await call<{ id: string; state: string }[]>(
      'GET',
      `/api/sessions/${sessionId}/sent-statuses`,
    )
    expect(listed.body.data.find((status) => status.id === statusId)).toMatchObject({ state: 'sent' })
    expect(await events.waitFor('status-sent', { sessionId })).toMatchObject({ statusId, waMessageId })

    // Deleted through the worker: its event reaches the connector's clients the same way.
    expect((await call('DELETE', `/api/sessions/${sessionId}/delete-status/${statusId}`)).status).toBe(200)
    expect(await events.waitFor('status-deleted', { sessionId })).toEqual({ sessionId, statusId })
    expect(events.of('session-created', { sessionId })).toHaveLength(1)
    events.close()
  })

  it('registers a webhook and a scoped key through the worker: a connector delivers, the worker enforces the key', async () => {
    const sessionId = 'edge-keyed'
    const hook = await call<{ webhookId: string; secret: string }>('POST', '/api/webhooks', {
      body: { url: receiver.url, events: ['session-created', 'session-deleted'] },
    })
    expect(hook.status).toBe(201)
    // Without a DNS resolver on Workers, a literal internal address is still refused.
    const internal = await call('POST', '/api/webhooks', { body: { url: 'http://10.0.0.7/hook' } })
    expect(internal).toMatchObject({ status: 400, body: { error: Messages.urlNonPublic } })

    // Born in the worker, relayed through Redis to a connector, which queues and delivers it.
    expect(
      (
        await call('POST', '/api/sessions', {
          body: { sessionId, sessionName: 'Keyed', authMethod: 'qrcode' },
        })
      ).status,
    ).toBe(201)
    await vi.waitFor(() => {
      const created = receiver.bodies('session-created').find((b) => b.sessionId === sessionId)
      expect(created).toBeDefined()
    }, POLL)
    const delivery = receiver.received.find((r) => JSON.parse(r.body).sessionId === sessionId)!
    expect(
      await verifyWebhookSignature({
        secret: hook.body.data.secret,
        header: delivery.headers['x-webhook-signature'] as string,
        body: delivery.body,
      }),
    ).toBe(true)

    const created = await call<{ keyId: string; key: string }>('POST', '/api/keys', {
      body: { name: 'edge reader', scopes: ['read'], sessionIds: [sessionId] },
    })
    expect(created.status).toBe(201)
    const key = created.body.data.key
    const listed = await call<{ sessionId: string }[]>('GET', '/api/sessions', { key })
    expect(listed.body.data.map((s) => s.sessionId)).toEqual([sessionId])
    expect((await call('GET', `/api/sessions/${sessionId}/sent-statuses`, { key })).status).toBe(200)
    expect(await call('GET', '/api/sessions/edge/sent-statuses', { key })).toMatchObject({
      status: 403,
      body: { error: Messages.keyOtherSession },
    })
    expect(
      await call('POST', `/api/sessions/${sessionId}/send-status`, {
        key,
        body: { type: 'text', content: 'no', targetNumbers: '15550009002' },
      }),
    ).toMatchObject({ status: 403, body: { error: 'This API key lacks the "send" scope' } })
    expect((await call('GET', '/api/keys', { key })).status).toBe(403)
    expect((await call('DELETE', `/api/keys/${created.body.data.keyId}`)).status).toBe(200)
    expect((await call('GET', '/api/sessions', { key })).status).toBe(401)
    expect((await call('DELETE', `/api/sessions/${sessionId}`)).status).toBe(200)
  })

  it('logs nothing per request about the missing DNS resolver', () => {
    // createApp notes it once, when the isolate builds the app; dozens of requests came since.
    const notes = workerLogs.filter((entry) => entry.message.includes('DNS resolver'))
    expect(notes).toEqual([expect.objectContaining({ level: 'warn' })])
    expect(workerLogs.filter((entry) => entry.level === 'error')).toEqual([])
  })

  it('refuses settings that cannot work on Workers, naming the variable', () => {
    const env = { ...sharedEnv, LIBSQL_URL: libsql.url, REDIS_URL: redis.url }
    // A local file cannot be opened in an isolate.
    expect(() => workerConfig({ ...env, LIBSQL_URL: 'file:data/tracker.db' })).toThrow(/LIBSQL_URL/)
    // REDIS_URL satisfies ROLE=api on Node, but an isolate reaches Redis only over REST.
    expect(() => workerConfig(env)).toThrow(/UPSTASH_REDIS_REST_URL/)
    expect(
      workerConfig({
        ...env,
        UPSTASH_REDIS_REST_URL: shim.url,
        UPSTASH_REDIS_REST_TOKEN: 't',
        ROLE: 'connector',
      }),
    ).toMatchObject({ ROLE: 'api' })
  })

  it('answers a bad configuration with 500 naming the variable, no stack', async () => {
    const broken = new Miniflare({
      modules: true,
      scriptPath: join(dir, 'worker', 'worker.js'),
      modulesRoot: join(dir, 'worker'),
      compatibilityDate: compat.compatibilityDate,
      compatibilityFlags: compat.compatibilityFlags,
      host: '127.0.0.1',
      port: 0,
      cf: false,
      // No database and no Redis: the deploy forgot two of its settings.
      bindings: sharedEnv,
    })
    try {
      const response = await fetchWorker(new URL('/api/sessions', await broken.ready), {
        headers: { 'x-api-key': API_KEY },
      })
      expect(response.status).toBe(500)
      const body = (await response.json()) as { success: boolean; error: string }
      expect(body.success).toBe(false)
      expect(body.error).toContain('LIBSQL_URL')
      expect(body.error).toContain('REDIS_URL')
      expect(body.error).not.toMatch(/\n\s+at |\.ts:\d+/)
    } finally {
      await broken.dispose()
    }
  })
})
