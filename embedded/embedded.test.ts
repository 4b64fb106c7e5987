import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { connect as connectTcp } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { PNG } from 'pngjs'
import { io, type Socket } from 'socket.io-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../shared/config.js'
import type { ServerEvents } from '../shared/events.js'
import { createLogger } from '../shared/node/logger.js'
import { createFakeSocketFactory, type FakeSocketFactory } from '../tests/support/fake-wa-socket.js'
import { type EmbeddedServer, startEmbedded } from './embedded.js'

/** The embedded product on a real port: REST and Socket.IO together, with a stand-in WhatsApp socket. */
describe('embedded product', () => {
  let dataDir: string
  let fake: FakeSocketFactory
  let server: EmbeddedServer | null = null
  const clients: Socket[] = []

  const start = async (env: Record<string, string> = {}, logger = pino({ level: 'silent' })) => {
    server = await startEmbedded({
      config: loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env }),
      logger,
      connector: { socketFactory: fake.factory },
    })
    return server
  }

  const connect = (auth: Record<string, string>, extraHeaders?: Record<string, string>) => {
    const socket = io(server!.url, { auth, extraHeaders, transports: ['websocket'], reconnection: false })
    clients.push(socket)
    return socket
  }

  const connected = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'embedded-'))
    fake = createFakeSocketFactory()
  })

  afterEach(async () => {
    for (const socket of clients.splice(0)) socket.disconnect()
    await server?.stop()
    server = null
    await rm(dataDir, { recursive: true, force: true })
  })

  it('generates a key on first start, keeps it across restarts and guards the API with it', async () => {
    const first = await start()
    expect(first.apiKey.source).toBe('generated')
    const health = await fetch(`${first.url}/api/health`)
    expect(health.status).toBe(200)
    const denied = await fetch(`${first.url}/api/sessions`)
    expect(denied.status).toBe(401)
    expect(await denied.json()).toEqual({ success: false, error: 'Invalid or missing API key' })
    const allowed = await fetch(`${first.url}/api/sessions`, {
      headers: { authorization: `Bearer ${first.apiKey.key}` },
    })
    expect(await allowed.json()).toEqual({ success: true, data: [] })
    const key = first.apiKey.key
    await first.stop()

    const second = await start()
    expect(second.apiKey).toMatchObject({ key, source: 'file' })
  })

  it('refuses Socket.IO clients without the key', async () => {
    await start()
    await expect(connected(connect({}))).rejects.toThrow('Invalid or missing API key')
    await expect(connected(connect({ apiKey: 'wrong-key-wrong-key' }))).rejects.toThrow(
      'Invalid or missing API key',
    )
  })

  it('streams session events to Socket.IO clients (key in auth or header)', async () => {
    const { url, apiKey } = await start()
    const byAuth = connect({ apiKey: apiKey.key })
    const byHeader = connect({}, { 'x-api-key': apiKey.key })
    await Promise.all([connected(byAuth), connected(byHeader)])
    const seen: { event: string; payload: unknown }[] = []
    byAuth.onAny((event, payload) => seen.push({ event, payload }))
    const headerCreated = new Promise<ServerEvents['session-created']>((resolve) =>
      byHeader.once('session-created', resolve),
    )

    const created = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey.key, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: 'acc1', sessionName: 'Account', authMethod: 'qrcode' }),
    })
    expect(created.status).toBe(201)
    expect(await headerCreated).toMatchObject({ sessionId: 'acc1', authMethod: 'qrcode' })

    await vi.waitFor(() => expect(fake.sockets).toHaveLength(1))
    fake.latest().emitQr()
    await vi.waitFor(() => {
      const qr = seen.find((e) => e.event === 'qr-code')
      expect(qr?.payload).toMatchObject({ sessionId: 'acc1', authMethod: 'qrcode' })
      expect((qr?.payload as ServerEvents['qr-code'] | undefined)?.qrCode).toMatch(/^data:image\/png;base64,/)
    })
    const qr = await fetch(`${url}/api/sessions/acc1/qr-code`, { headers: { 'x-api-key': apiKey.key } })
    expect(((await qr.json()) as { data: { qrCode: string } }).data.qrCode).toMatch(
      /^data:image\/png;base64,/,
    )

    const deleted = await fetch(`${url}/api/sessions/acc1`, {
      method: 'DELETE',
      headers: { 'x-api-key': apiKey.key },
    })
    expect(deleted.status).toBe(200)
    await vi.waitFor(() => expect(seen.map((e) => e.event)).toContain('session-deleted'))
  })

  it('logs each connector command with the id of the request that sent it, never the status text', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    )
    const { url, apiKey } = await start({ LOG_LEVEL: 'info' }, logger)
    const created = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      headers: {
        'x-api-key': apiKey.key,
        'content-type': 'application/json',
        'x-request-id': 'trace-abc123',
      },
      body: JSON.stringify({ sessionId: 'traced', sessionName: 'Secret name', authMethod: 'qrcode' }),
    })
    expect(created.status).toBe(201)
    expect(created.headers.get('x-request-id')).toBe('trace-abc123')
    await vi.waitFor(
      () =>
        expect(lines).toContainEqual(
          expect.objectContaining({
            msg: 'command handled',
            command: 'session.start',
            sessionId: 'traced',
            requestId: 'trace-abc123',
            outcome: 'ok',
          }),
        ),
      { timeout: 15_000, interval: 50 },
    )
    expect(JSON.stringify(lines)).not.toContain('Secret name')
  })

  const uploadLinkVia = async (origin: string, key: string) => {
    const res = await fetch(`${origin}/api/uploads`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'image', contentType: 'image/png', size: 1024 }),
    })
    expect(res.status).toBe(201)
    return ((await res.json()) as { data: { uploadUrl: string } }).data.uploadUrl
  }

  it('signs upload links for the address and port the client asked at', async () => {
    const { port, apiKey } = await start()
    // A browser page at 127.0.0.1 must get a link there: localhost would be another origin to it.
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
      expect(await uploadLinkVia(origin, apiKey.key)).toMatch(new RegExp(`^${origin}/api/uploads/`))
    }
  })

  it('signs upload links for PUBLIC_URL when it is set, whatever address the client asked at', async () => {
    const { port, apiKey } = await start({ PUBLIC_URL: 'https://status.example.com/' })
    expect(await uploadLinkVia(`http://127.0.0.1:${port}`, apiKey.key)).toMatch(
      /^https:\/\/status\.example\.com\/api\/uploads\//,
    )
  })

  const modeOf = async (path: string) => (await stat(path)).mode & 0o777

  /** Every file and folder under the data folder with its permission bits, relative paths as keys. */
  const modesUnder = async (dir: string, prefix = ''): Promise<Record<string, number>> => {
    const modes: Record<string, number> = {}
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      modes[prefix + entry.name] = await modeOf(path)
      if (entry.isDirectory()) Object.assign(modes, await modesUnder(path, `${prefix}${entry.name}/`))
    }
    return modes
  }

  const uploadImage = async ({ url, apiKey }: EmbeddedServer) => {
    const png = new PNG({ width: 2, height: 2 })
    const form = new FormData()
    form.append('image', new Blob([new Uint8Array(PNG.sync.write(png))], { type: 'image/png' }), 'a.png')
    const res = await fetch(`${url}/api/upload-image`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey.key },
      body: form,
    })
    expect(res.status).toBe(201)
    return ((await res.json()) as { data: { filename: string } }).data.filename
  }

  it('keeps the data folder owner-only: 0700 folders, 0600 files, the -wal/-shm files and uploads included', async () => {
    const nested = join(dataDir, 'fresh')
    dataDir = nested
    const running = await start()
    const filename = await uploadImage(running)
    const modes = await modesUnder(nested)
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining([
        'api-key',
        'tracker.db',
        'tracker.db-wal',
        'tracker.db-shm',
        'media',
        `media/${filename}`,
      ]),
    )
    for (const [name, mode] of Object.entries(modes)) {
      expect({ name, mode: mode.toString(8) }).toEqual({ name, mode: name === 'media' ? '700' : '600' })
    }
    expect(await modeOf(nested)).toBe(0o700)
  })

  it('tightens the folder and files of an older install (0755/0644) at start', async () => {
    const first = await start()
    const filename = await uploadImage(first)
    const { size } = await stat(join(dataDir, 'media', filename))
    await first.stop()
    server = null
    // What an older version left behind under the usual umask 022.
    const before = await modesUnder(dataDir)
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['tracker.db-wal', 'tracker.db-shm']))
    await chmod(dataDir, 0o755)
    for (const name of Object.keys(before)) {
      await chmod(join(dataDir, name), name === 'media' ? 0o755 : 0o644)
    }

    const second = await start()
    for (const [name, mode] of Object.entries(await modesUnder(dataDir))) {
      expect({ name, mode: mode.toString(8) }).toEqual({ name, mode: name === 'media' ? '700' : '600' })
    }
    expect(await modeOf(dataDir)).toBe(0o700)
    // Same key, same upload: tightening changed permissions only.
    expect(second.apiKey).toMatchObject({ key: first.apiKey.key, source: 'file' })
    expect((await stat(join(dataDir, 'media', filename))).size).toBe(size)
  })

  it('warns once at start when credentials are stored unencrypted, naming no key material', async () => {
    const lines: { level: number; msg: string }[] = []
    const capture = () => createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) })
    const running = await start({}, capture())
    const warnings = lines.filter((l) => l.level === 40)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.msg).toContain('AUTH_ENCRYPTION_KEY is not set')
    expect(JSON.stringify(lines)).not.toContain(running.apiKey.key)
    await running.stop()
    server = null

    lines.length = 0
    const key = randomBytes(32).toString('hex')
    await start({ AUTH_ENCRYPTION_KEY: key }, capture())
    expect(lines.filter((l) => l.level >= 40)).toEqual([])
    expect(JSON.stringify(lines)).not.toContain(key)
  })

  it('closes a stalled Socket.IO long-polling request and leaves websocket clients connected', async () => {
    const { url, port, apiKey } = await start({
      HTTP_HEADERS_TIMEOUT_MS: '300',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '300',
      HTTP_BODY_STALL_MS: '300',
    })
    const ws = connect({ apiKey: apiKey.key })
    await connected(ws)

    // An engine.io session, then a POST to it whose body never comes.
    const handshake = await (await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).text()
    const sid = (JSON.parse(handshake.slice(1)) as { sid: string }).sid
    const stalled = connectTcp(port, '127.0.0.1')
    stalled.on('error', () => {})
    const startedAt = Date.now()
    const closedAfter = new Promise<number>((resolve) =>
      stalled.once('close', () => resolve(Date.now() - startedAt)),
    )
    stalled.write(
      `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n`,
    )
    const waited = await Promise.race([
      closedAfter,
      new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), 5000)),
    ])
    stalled.destroy()
    // Engine.io's own heartbeat would take 45 s; the body watch takes one window.
    expect(waited).toBeLessThan(2000)

    // Well past every timeout and still connected and receiving.
    const disconnects: string[] = []
    ws.on('disconnect', (reason) => disconnects.push(reason))
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(disconnects).toEqual([])
    expect(ws.connected).toBe(true)
    const created = new Promise<ServerEvents['session-created']>((resolve) =>
      ws.once('session-created', resolve),
    )
    const res = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey.key, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: 'acc9', sessionName: 'Account', authMethod: 'qrcode' }),
    })
    expect(res.status).toBe(201)
    expect(await created).toMatchObject({ sessionId: 'acc9' })
  })
})
