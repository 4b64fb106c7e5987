import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { io, type Socket } from 'socket.io-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { InProcessBus } from '../bus/in-process.js'
import { type ApiKeysRepo, createRepositories } from '../db/index.js'
import { openTestDatabase, type TestDatabase } from '../db/test-support.js'
import { Messages } from '../errors.js'
import type { EventMessage } from '../events.js'
import { hashApiKey, ScopedKeyResolver } from '../security/scoped-keys.js'
import { SocketGateway, type SocketGatewayOptions } from './socket-gateway.js'

const API_KEY = 'gateway-test-key-0123456789'

const viewersUpdate = (viewers: number): EventMessage => ({
  event: 'status-viewers-update',
  payload: {
    sessionId: 's1',
    statusId: 'st1',
    viewers: Array.from({ length: viewers }, (_, i) => ({
      jid: `1555000${i}@s.whatsapp.net`,
      number: `1555000${i}`,
      lid: null,
      viewedAt: new Date(1_000 * i).toISOString(),
      isReal: true,
    })),
    newViewers: [],
  },
})

/** A websocket client with `apiKey`, kept in `clients` for the cleanup; rejects on a refused handshake. */
const connectClient = (url: string, apiKey: string, clients: Socket[]) =>
  new Promise<Socket>((resolve, reject) => {
    const client = io(url, { auth: { apiKey }, transports: ['websocket'], reconnection: false })
    clients.push(client)
    client.once('connect', () => resolve(client))
    client.once('connect_error', reject)
  })

/** A gateway on a fresh HTTP server with an in-process bus; `stop` undoes all of it. */
const startGateway = async (options: Omit<SocketGatewayOptions, 'events'> = {}) => {
  const http = createServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const bus = new InProcessBus()
  const gateway = new SocketGateway(http, API_KEY, { events: bus, ...options })
  await gateway.start()
  const clients: Socket[] = []
  return {
    url,
    bus,
    gateway,
    connect: (apiKey = API_KEY) => connectClient(url, apiKey, clients),
    async stop() {
      for (const client of clients.splice(0)) client.disconnect()
      await gateway.stop()
      await bus.close()
      await new Promise((resolve) => http.close(resolve))
    },
  }
}

describe('Socket.IO gateway, alone (no cluster)', () => {
  let server: Awaited<ReturnType<typeof startGateway>>
  let bus: InProcessBus
  let gateway: SocketGateway

  beforeEach(async () => {
    server = await startGateway()
    ;({ bus, gateway } = server)
  })

  afterEach(() => server.stop())

  const connect = () => server.connect()

  it('serializes no event while nobody is connected, and delivers every event once somebody is', async () => {
    const emit = vi.spyOn(gateway.io, 'to')
    await bus.publish(viewersUpdate(5_000))
    expect(emit).not.toHaveBeenCalled()

    const client = await connect()
    const received: unknown[] = []
    client.on('status-viewers-update', (payload) => received.push(payload))
    await bus.publish(viewersUpdate(3))
    await vi.waitFor(() => expect(received).toHaveLength(1))
    expect(emit).toHaveBeenCalledTimes(1)
    expect(received[0]).toMatchObject({ sessionId: 's1', statusId: 'st1' })

    client.disconnect()
    await vi.waitFor(() => expect(gateway.io.of('/').sockets.size).toBe(0))
    await bus.publish(viewersUpdate(5_000))
    expect(emit).toHaveBeenCalledTimes(1)
  })
})

describe('Socket.IO gateway with scoped keys', () => {
  let server: Awaited<ReturnType<typeof startGateway>>
  let bus: InProcessBus
  let db: TestDatabase
  let resolver: ScopedKeyResolver
  let keys: ApiKeysRepo

  const keyRecord = async (
    id: string,
    key: string,
    sessionIds: string[] | null,
    revokedAt: number | null = null,
  ) => ({
    id,
    name: id,
    keyHash: await hashApiKey(key),
    keyPrefix: key.slice(0, 10),
    scopes: ['read' as const],
    sessionIds,
    createdAt: Date.now(),
    lastUsedAt: null,
    revokedAt,
  })

  beforeEach(async () => {
    db = await openTestDatabase()
    const repos = createRepositories(db.client)
    await repos.apiKeys.insert(await keyRecord('key_0000000000aa', 'wsk_only-a', ['a']))
    await repos.apiKeys.insert(await keyRecord('key_0000000000bb', 'wsk_every', null))
    await repos.apiKeys.insert(await keyRecord('key_0000000000cc', 'wsk_revoked', null))
    await repos.apiKeys.revoke('key_0000000000cc', Date.now())
    resolver = new ScopedKeyResolver(repos.apiKeys)
    keys = repos.apiKeys
    server = await startGateway({ scopedKeys: resolver, recheckMs: 50 })
    bus = server.bus
  })

  afterEach(async () => {
    await server.stop()
    await db.cleanup()
  })

  const connect = (apiKey: string) => server.connect(apiKey)

  it('gives a key limited to some sessions only their events, and refuses a revoked key', async () => {
    const heard = async (apiKey: string) => {
      const client = await connect(apiKey)
      const events: string[] = []
      client.on('status-deleted', ({ sessionId }) => events.push(sessionId))
      return events
    }
    const onlyA = await heard('wsk_only-a')
    const every = await heard('wsk_every')
    const admin = await heard(API_KEY)
    for (const sessionId of ['a', 'b', 'a', 'c']) {
      await bus.publish({ event: 'status-deleted', payload: { sessionId, statusId: 'st' } })
    }
    await vi.waitFor(() => {
      expect(admin).toEqual(['a', 'b', 'a', 'c'])
      expect(every).toEqual(['a', 'b', 'a', 'c'])
    })
    expect(onlyA).toEqual(['a', 'a'])
    await expect(connect('wsk_revoked')).rejects.toThrow(Messages.unauthorized)
    await expect(connect('wsk_unknown')).rejects.toThrow(Messages.unauthorized)
  })

  it('sends away an open socket once its key is revoked, and only that one', async () => {
    const revokedLater = await connect('wsk_only-a')
    const staying = await connect('wsk_every')
    const admin = await connect(API_KEY)
    const reasons: string[] = []
    revokedLater.on('disconnect', (reason) => reasons.push(reason))
    await keys.revoke('key_0000000000aa', Date.now())
    resolver.forget()
    await vi.waitFor(() => expect(reasons).toEqual(['io server disconnect']))
    expect(staying.connected).toBe(true)
    expect(admin.connected).toBe(true)
  })
})
