import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { RedisCommandClient, RedisEventPublisher } from '../../shared/bus/redis-command-client.js'
import { CONNECTOR_GROUP, RedisKeys } from '../../shared/bus/redis-keys.js'
import type { CommandEnvelope } from '../../shared/commands.js'
import { AppError, Messages } from '../../shared/errors.js'
import type { EventMessage } from '../../shared/events.js'
import { createRedisClient, nodeRedisCommands } from '../../shared/node/node-redis.js'
import type { RedisCommands } from '../../shared/redis/types.js'
import { RedisServer } from '../../tests/support/redis-server.js'
import { ClusterMember, type SessionHost } from './cluster-member.js'

const LEASE_MS = 1_500
const EVENTUALLY = { timeout: 10_000, interval: 20 }

/** Sessions as a connector would run them, minus WhatsApp: records what the cluster asked. */
class FakeHost implements SessionHost {
  readonly adopted: string[] = []
  readonly dropped: string[] = []
  readonly running = new Set<string>()
  readonly handled: CommandEnvelope[] = []
  /** Replies by command name; the default answers `{ ok: true }`. */
  reply: (command: CommandEnvelope) => Promise<unknown> = async () => ({ ok: true })

  constructor(private readonly wanted: () => string[]) {}

  /** Every wanted session as last held by `previousOwner` (none: a fresh deployment). */
  previousOwner: string | null = null
  async wantedSessions() {
    return this.wanted().map((sessionId) => ({ sessionId, connectorId: this.previousOwner }))
  }
  async adopt(sessionId: string) {
    this.adopted.push(sessionId)
    this.running.add(sessionId)
  }
  async drop(sessionId: string) {
    this.dropped.push(sessionId)
    this.running.delete(sessionId)
  }
  needsOwner(sessionId: string) {
    return this.running.has(sessionId)
  }
  async handle(command: CommandEnvelope) {
    this.handled.push(command)
    return this.reply(command)
  }
}

describe('Redis command bus and cluster membership', () => {
  let redis: RedisServer
  let api: RedisCommands
  let client: RedisCommandClient
  const members: ClusterMember[] = []
  const wanted = new Set<string>()

  const startMember = async (
    id: string,
    host = new FakeHost(() => [...wanted]),
    relayed: EventMessage[] = [],
  ) => {
    const member = new ClusterMember({
      redisUrl: redis.url,
      connectorId: id,
      maxSessions: 100,
      leaseMs: LEASE_MS,
      host,
      relay: (message) => relayed.push(message),
      logger: pino({ level: 'silent' }),
    })
    members.push(member)
    await member.start()
    return { member, host, relayed }
  }

  const stopMember = async (member: ClusterMember) => {
    await member.stopTakingWork()
    await member.release()
    members.splice(members.indexOf(member), 1)
  }

  beforeAll(async () => {
    redis = await RedisServer.start()
    api = await nodeRedisCommands(redis.url)
    client = new RedisCommandClient(api)
  })

  afterEach(async () => {
    for (const member of members.splice(0)) {
      await member.stopTakingWork()
      await member.release()
    }
    wanted.clear()
    await api.call(['FLUSHALL'])
  })

  afterAll(async () => {
    await api?.close()
    await redis?.stop()
  })

  it('refuses a command at once when no connector is alive, and never runs it later', async () => {
    const started = Date.now()
    await expect(client.send('nobody', 'session.start', { sessionId: 'nobody' })).rejects.toMatchObject({
      code: 'unavailable',
      message: Messages.connectorUnavailable,
    })
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(await api.call(['XLEN', RedisKeys.commands('nobody')])).toBe(0)

    wanted.add('nobody')
    const { host } = await startMember('c1')
    await vi.waitFor(() => expect(host.adopted).toEqual(['nobody']), EVENTUALLY)
    expect(host.handled).toEqual([])
  })

  it('places a new session on a connector and answers its commands in order', async () => {
    const { host } = await startMember('c1')
    host.reply = async (command) =>
      command.name === 'session.requestPairingCode'
        ? { pairingCode: 'ABCD1234', phoneNumber: '15550001111' }
        : { ok: true }
    // No lease yet: the command itself announces the session for placement.
    const replies = await Promise.all([
      client.send('fresh', 'session.start', { sessionId: 'fresh' }),
      client.send('fresh', 'session.requestPairingCode', { sessionId: 'fresh' }),
    ])
    expect(replies).toEqual([{ ok: true }, { pairingCode: 'ABCD1234', phoneNumber: '15550001111' }])
    expect(host.adopted).toEqual(['fresh'])
    expect(host.handled.map((c) => c.name)).toEqual(['session.start', 'session.requestPairingCode'])
    expect(await api.call(['GET', RedisKeys.lease('fresh')])).toBe('c1')
  })

  it('carries the request id of the API call to the connector, and none when there is none', async () => {
    const { host } = await startMember('c1')
    await client.send('traced', 'session.start', { sessionId: 'traced' }, { requestId: 'req-0123abcd' })
    await client.send('traced', 'session.restart', { sessionId: 'traced' })
    expect(host.handled.map((c) => [c.name, c.requestId])).toEqual([
      ['session.start', 'req-0123abcd'],
      ['session.restart', undefined],
    ])
  })

  it('carries domain errors back with their code and message', async () => {
    const { host } = await startMember('c1')
    host.reply = async () => {
      throw new AppError('conflict', Messages.notConnected)
    }
    await expect(
      client.send('s', 'status.send', { sessionId: 's', type: 'text', content: 'hi', targetNumbers: [] }),
    ).rejects.toMatchObject({ code: 'conflict', message: Messages.notConnected })
  })

  it('answers 504 when the owner does not reply in time', async () => {
    const slow = new RedisCommandClient(api, { timeoutScale: 0.02 }) // session.start: 200 ms
    const { host } = await startMember('c1')
    host.reply = () => new Promise(() => {})
    await expect(slow.send('stuck', 'session.start', { sessionId: 'stuck' })).rejects.toMatchObject({
      code: 'timeout',
      message: Messages.connectorTimeout,
    })
  })

  it('spreads sessions over the live connectors', async () => {
    const a = await startMember('c1')
    const b = await startMember('c2')
    await vi.waitFor(async () => expect((await a.member.liveConnectors()).length).toBe(2), EVENTUALLY)
    for (let i = 0; i < 10; i++) wanted.add(`spread-${i}`)
    await vi.waitFor(() => expect(a.host.running.size + b.host.running.size).toBe(10), EVENTUALLY)
    expect(Math.abs(a.host.running.size - b.host.running.size)).toBeLessThanOrEqual(2)
    const all = [...a.host.running, ...b.host.running].sort()
    expect(new Set(all).size).toBe(10)
  })

  it('takes over a dead connector’s sessions after its lease and runs its unacknowledged commands once', async () => {
    // A connector "dead" mid-command: it holds the lease and has read a command it never answered.
    await api.call(['SET', RedisKeys.lease('orphan'), 'dead', 'PX', String(LEASE_MS)])
    await api.call(['ZADD', RedisKeys.connectors, String(Date.now() + 60_000), 'dead'])
    const pending = client.send('orphan', 'session.restart', { sessionId: 'orphan' })
    const reader = createRedisClient(redis.url)
    await reader.connect()
    await vi.waitFor(async () => expect(await api.call(['XLEN', RedisKeys.commands('orphan')])).toBe(1))
    await reader.sendCommand([
      'XGROUP',
      'CREATE',
      RedisKeys.commands('orphan'),
      CONNECTOR_GROUP,
      '0',
      'MKSTREAM',
    ])
    await reader.sendCommand([
      'XREADGROUP',
      'GROUP',
      CONNECTOR_GROUP,
      'dead',
      'COUNT',
      '10',
      'STREAMS',
      RedisKeys.commands('orphan'),
      '>',
    ])
    await reader.close()

    wanted.add('orphan')
    const { host } = await startMember('c1')
    const started = Date.now()
    expect(await pending).toEqual({ ok: true })
    expect(Date.now() - started).toBeLessThan(LEASE_MS + 3_000)
    expect(host.handled.map((c) => c.name)).toEqual(['session.restart'])
    expect(await api.call(['GET', RedisKeys.lease('orphan')])).toBe('c1')
  })

  it('hands sessions over at once on a graceful stop', async () => {
    wanted.add('moving')
    const a = await startMember('c1')
    await vi.waitFor(() => expect(a.host.running.has('moving')).toBe(true), EVENTUALLY)
    const b = await startMember('c2')
    await stopMember(a.member)
    await vi.waitFor(() => expect(b.host.running.has('moving')).toBe(true), {
      timeout: LEASE_MS,
      interval: 20,
    })
    expect(await client.send('moving', 'session.start', { sessionId: 'moving' })).toEqual({ ok: true })
  })

  it('relays events born in the API to exactly one connector', async () => {
    const a = await startMember('c1')
    const b = await startMember('c2')
    const publisher = new RedisEventPublisher(api)
    for (let i = 0; i < 20; i++) {
      await publisher.publish({ event: 'session-deleted', payload: { sessionId: `gone-${i}` } })
    }
    await vi.waitFor(() => expect(a.relayed.length + b.relayed.length).toBe(20), EVENTUALLY)
    const ids = [...a.relayed, ...b.relayed].map((m) => m.payload.sessionId).sort()
    expect(new Set(ids).size).toBe(20)
  })

  it('gives a session up when another connector holds its lease', async () => {
    wanted.add('contested')
    const { host } = await startMember('c1')
    await vi.waitFor(() => expect(host.running.has('contested')).toBe(true), EVENTUALLY)
    await api.call(['SET', RedisKeys.lease('contested'), 'intruder'])
    await vi.waitFor(() => expect(host.dropped).toContain('contested'), EVENTUALLY)
  })
})

describe('Redis outages', () => {
  it('answers 503 fast while Redis is down, keeps sessions through a short outage, and recovers empty', async () => {
    const redis = await RedisServer.start()
    const api = await nodeRedisCommands(redis.url)
    const client = new RedisCommandClient(api)
    const host = new FakeHost(() => ['steady'])
    const member = new ClusterMember({
      redisUrl: redis.url,
      connectorId: 'c1',
      maxSessions: 10,
      leaseMs: 6_000,
      host,
      relay: () => {},
      logger: pino({ level: 'silent' }),
    })
    try {
      await member.start()
      await vi.waitFor(() => expect(host.running.has('steady')).toBe(true), EVENTUALLY)

      await redis.kill()
      const started = Date.now()
      await expect(client.send('steady', 'session.restart', { sessionId: 'steady' })).rejects.toMatchObject({
        code: 'unavailable',
        message: Messages.busUnavailable,
      })
      expect(Date.now() - started).toBeLessThan(1_000)

      await redis.restart() // empty: no leases, streams, groups or registry
      await vi.waitFor(
        async () =>
          expect(await client.send('steady', 'session.restart', { sessionId: 'steady' })).toEqual({
            ok: true,
          }),
        { timeout: 15_000, interval: 200 },
      )
      expect(host.dropped).toEqual([])
      expect(host.handled.map((c) => c.name)).toEqual(['session.restart'])
    } finally {
      await member.stopTakingWork()
      await member.release()
      await api.close()
      await redis.stop()
    }
  })
})
