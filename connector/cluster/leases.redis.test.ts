import { afterEach, describe, expect, it, vi } from 'vitest'
import { RedisKeys } from '../../shared/bus/redis-keys.js'
import { connectWithin, createRedisClient } from '../../shared/node/node-redis.js'
import { RedisServer } from '../../tests/support/redis-server.js'
import { LeaseKeeper } from './leases.js'

const LEASE_MS = 1_500

describe('LeaseKeeper', () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  const setup = async () => {
    const redis = await RedisServer.start()
    cleanups.push(() => redis.stop())
    const client = createRedisClient(redis.url)
    await connectWithin(client, 2_000)
    cleanups.push(() => client.close())
    const lost: { sessionId: string; at: number }[] = []
    const keeper = new LeaseKeeper(client, 'c1', LEASE_MS, {
      onLost: (sessionId) => lost.push({ sessionId, at: Date.now() }),
    })
    keeper.start()
    cleanups.push(() => keeper.stop())
    return { redis, client, keeper, lost }
  }

  it('keeps its leases alive by renewing them', async () => {
    const { client, keeper, lost } = await setup()
    expect(await keeper.tryAcquire('a')).toBe(true)
    expect(await keeper.tryAcquire('a')).toBe(false)
    // Watch the lease's time to live: each renewal pushes it back up. Several renewals in a row
    // (more than one lease length in all) and the lease still names this connector.
    let renewals = 0
    let lastTtl = Number(await client.sendCommand(['PTTL', RedisKeys.lease('a')]))
    await vi.waitFor(
      async () => {
        const ttl = Number(await client.sendCommand(['PTTL', RedisKeys.lease('a')]))
        expect(ttl).toBeGreaterThan(0)
        if (ttl > lastTtl + 50) renewals++
        lastTtl = ttl
        expect(renewals).toBeGreaterThanOrEqual(4)
      },
      { timeout: 10_000, interval: 50 },
    )
    expect(await client.sendCommand(['GET', RedisKeys.lease('a')])).toBe('c1')
    expect(lost).toEqual([])
  })

  it('gives every session up before its lease can run out when Redis cannot be reached', async () => {
    const { redis, keeper, lost } = await setup()
    expect(await keeper.tryAcquire('a')).toBe(true)
    expect(await keeper.tryAcquire('b')).toBe(true)
    // The lease may have been renewed just before Redis went away: it holds until then + LEASE_MS.
    const lastPossibleRenewal = Date.now()
    await redis.kill()
    await vi.waitFor(() => expect(lost.map((l) => l.sessionId).sort()).toEqual(['a', 'b']), {
      timeout: 5_000,
      interval: 20,
    })
    for (const { at } of lost) expect(at).toBeLessThan(lastPossibleRenewal + LEASE_MS)
    expect(keeper.size).toBe(0)
  })

  it('takes a lease back when Redis came back empty, and reports one another connector took', async () => {
    const { redis, client, keeper, lost } = await setup()
    expect(await keeper.tryAcquire('mine')).toBe(true)
    expect(await keeper.tryAcquire('taken')).toBe(true)
    await client.sendCommand(['FLUSHALL'])
    await client.sendCommand(['SET', RedisKeys.lease('taken'), 'c2', 'PX', String(LEASE_MS)])
    await vi.waitFor(() => expect(lost.map((l) => l.sessionId)).toEqual(['taken']), { timeout: 5_000 })
    await vi.waitFor(async () =>
      expect(await client.sendCommand(['GET', RedisKeys.lease('mine')])).toBe('c1'),
    )
    expect(keeper.holds('mine')).toBe(true)
    expect(redis.running).toBe(true)
  })
})
