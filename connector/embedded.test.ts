import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { io, type Socket } from 'socket.io-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../shared/config.js'
import type { ServerEvents } from '../shared/events.js'
import { createFakeSocketFactory, type FakeSocketFactory } from '../tests/support/fake-wa-socket.js'
import { type EmbeddedServer, startEmbedded } from './embedded.js'

/** The embedded product on a real port: REST and Socket.IO together, with a stand-in WhatsApp socket. */
describe('embedded product', () => {
  let dataDir: string
  let fake: FakeSocketFactory
  let server: EmbeddedServer | null = null
  const clients: Socket[] = []

  const start = async () => {
    server = await startEmbedded({
      config: loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }),
      logger: pino({ level: 'silent' }),
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

  it('signs upload links for the port it actually listens on', async () => {
    const { url, apiKey } = await start()
    const res = await fetch(`${url}/api/uploads`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey.key, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'image', contentType: 'image/png', size: 1024 }),
    })
    expect(res.status).toBeLessThan(300)
    const body = (await res.json()) as { data: { uploadUrl: string } }
    expect(body.data.uploadUrl.startsWith(`${url}/api/uploads/`)).toBe(true)
  })
})
