import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { io, type Socket } from 'socket.io-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { InProcessBus } from '../bus/in-process.js'
import type { EventMessage } from '../events.js'
import { SocketGateway } from './socket-gateway.js'

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

describe('Socket.IO gateway, alone (no cluster)', () => {
  let http: Server
  let url: string
  let bus: InProcessBus
  let gateway: SocketGateway
  const clients: Socket[] = []

  beforeEach(async () => {
    http = createServer()
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    bus = new InProcessBus()
    gateway = new SocketGateway(http, API_KEY, { events: bus })
    await gateway.start()
  })

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect()
    await gateway.stop()
    await bus.close()
    await new Promise((resolve) => http.close(resolve))
  })

  const connect = () =>
    new Promise<Socket>((resolve, reject) => {
      const client = io(url, { auth: { apiKey: API_KEY }, transports: ['websocket'], reconnection: false })
      clients.push(client)
      client.once('connect', () => resolve(client))
      client.once('connect_error', reject)
    })

  it('serializes no event while nobody is connected, and delivers every event once somebody is', async () => {
    const emit = vi.spyOn(gateway.io, 'emit')
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
