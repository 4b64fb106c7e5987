/**
 * Command round trip API → connector → reply:
 *  - embedded: `InProcessBus.send` to a trivial handler (validation, envelope, timeout race, reply
 *    check);
 *  - the full HTTP app: `POST /api/sessions/{id}/restart` through `app.request` (middleware, key
 *    check, session lookup in libSQL, the bus round trip, JSON envelope);
 *  - split: the API's `RedisCommandClient` → a real `redis-server` → a `ClusterMember` (its
 *    `CommandConsumer`) holding the session, with a handler that does no WhatsApp work → reply,
 *    beside a bare XADD/XREADGROUP + LPUSH/BLPOP round trip on the same server with the same
 *    client library and no product code, measured in the same run: the difference is what the
 *    product adds to what Redis itself costs.
 */
import type { RedisClientType } from '@redis/client'
import pino from 'pino'
import { ClusterMember, type SessionHost } from '../../connector/cluster/cluster-member.js'
import { InProcessBus } from '../../shared/bus/in-process.js'
import { RedisCommandClient } from '../../shared/bus/redis-command-client.js'
import { createRedisClient, nodeRedisCommands } from '../../shared/node/node-redis.js'
import { RedisServer } from '../support/redis-server.js'
import { BENCH_API_KEY, createBenchApp, newSession } from './support/fixtures.js'
import { bySize, emit, type LatencySummary, log, measureLatency, round } from './support/report.js'

const BENCH = 'command round trip'

const busRoundTrip = async () => {
  const bus = new InProcessBus()
  bus.serve(async () => ({ ok: true }))
  const summary = await measureLatency(() => bus.send('s1', 'session.restart', { sessionId: 's1' }), {
    iterations: bySize(100_000, 2_000),
    warmup: bySize(20_000, 200),
  })
  await bus.close()
  log(`bus: p50 ${summary.p50.toFixed(4)} ms, p99 ${summary.p99.toFixed(4)} ms over ${summary.samples}`)
  emit({
    bench: BENCH,
    metric: 'InProcessBus.send p50',
    value: round(summary.p50, 4),
    unit: 'ms',
    target: { kind: 'max', value: 0.2 },
    note: `p99 ${round(summary.p99, 4)} ms, mean ${round(summary.mean, 4)} ms, n=${summary.samples}`,
  })
}

const httpRoundTrip = async () => {
  const fixture = await createBenchApp()
  await fixture.db.repos.sessions.create(newSession('bench', '15550001111'))
  const init = { method: 'POST', headers: { 'x-api-key': BENCH_API_KEY } }
  const restart = async () => {
    const response = await fixture.app.request('/api/sessions/bench/restart', init)
    if (response.status !== 200) throw new Error(`restart answered ${response.status}`)
    await response.arrayBuffer()
  }
  const summary = await measureLatency(restart, {
    iterations: bySize(10_000, 500),
    warmup: bySize(2_000, 100),
  })
  await fixture.close()
  log(`http app: p50 ${summary.p50.toFixed(3)} ms, p99 ${summary.p99.toFixed(3)} ms over ${summary.samples}`)
  emit({
    bench: BENCH,
    metric: 'POST /restart via app.request p50',
    value: round(summary.p50),
    unit: 'ms',
    note: `p99 ${round(summary.p99)} ms, mean ${round(summary.mean)} ms, n=${summary.samples}; includes a libSQL session read`,
  })
}

/** Sequential Redis round trips: enough for a stable p99 on a shared machine, in a few seconds. */
const REDIS_ROUND_TRIPS = { iterations: bySize(5_000, 200), warmup: bySize(1_000, 50) }

/**
 * The floor: what one command costs in Redis with this client library and nothing else. The API
 * side queues with XADD and waits with BLPOP on a connection of its own; the consumer reads with
 * a blocking XREADGROUP on another and answers with LPUSH + XACK in one MULTI, as the product does.
 */
const bareRedisRoundTrip = async (url: string): Promise<LatencySummary> => {
  const connect = async () => {
    const client = createRedisClient(url)
    await client.connect()
    return client
  }
  const [producer, waiter, reader, replier] = await Promise.all([connect(), connect(), connect(), connect()])
  const stream = 'bare:cmd'
  await producer.sendCommand(['XGROUP', 'CREATE', stream, 'g', '$', 'MKSTREAM'])
  let running = true
  const consume = async (client: RedisClientType) => {
    while (running) {
      const raw = (await client.sendCommand([
        'XREADGROUP',
        'GROUP',
        'g',
        'c',
        'COUNT',
        '100',
        'BLOCK',
        '1000',
        'STREAMS',
        stream,
        '>',
      ])) as [string, [string, string[]][]][] | null
      for (const [, entries] of raw ?? []) {
        for (const [entryId, fields] of entries) {
          await replier
            .multi()
            .addCommand(['LPUSH', `bare:reply:${fields[1]}`, '{"ok":true,"data":{"ok":true}}'])
            .addCommand(['XACK', stream, 'g', entryId])
            .exec()
        }
      }
    }
  }
  const consuming = consume(reader)
  let next = 0
  const summary = await measureLatency(async () => {
    const id = String(next++)
    await producer.sendCommand(['XADD', stream, 'MAXLEN', '~', '1000', '*', 'id', id])
    const popped = await waiter.sendCommand(['BLPOP', `bare:reply:${id}`, '5'])
    if (!popped) throw new Error('bare round trip: no reply')
  }, REDIS_ROUND_TRIPS)
  running = false
  await consuming
  await Promise.all([producer, waiter, reader, replier].map((client) => client.close()))
  return summary
}

/** One session, held by one cluster member whose host answers every command at once. */
const productRedisRoundTrip = async (url: string): Promise<LatencySummary> => {
  const sessionId = 'bench'
  let held = false
  const host: SessionHost = {
    wantedSessions: async () => [{ sessionId, connectorId: null }],
    adopt: async () => {
      held = true
    },
    drop: async () => {
      held = false
    },
    needsOwner: () => held,
    handle: async () => ({ ok: true }),
  }
  const member = new ClusterMember({
    redisUrl: url,
    connectorId: 'bench-connector',
    maxSessions: 10,
    leaseMs: 15_000,
    host,
    relay: () => {},
    logger: pino({ level: 'silent' }),
  })
  await member.start()
  const redis = await nodeRedisCommands(url)
  const client = new RedisCommandClient(redis)
  try {
    // The first command also announces the session for placement, should it not be held yet.
    const deadline = Date.now() + 10_000
    while (!held || member.sessionCount !== 1) {
      if (Date.now() > deadline) throw new Error('the cluster member did not take the session')
      await client.send(sessionId, 'session.restart', { sessionId }).catch(() => {})
    }
    return await measureLatency(async () => {
      await client.send(sessionId, 'session.restart', { sessionId })
    }, REDIS_ROUND_TRIPS)
  } finally {
    await redis.close()
    await member.stopTakingWork()
    await member.release()
  }
}

const redisRoundTrip = async () => {
  const server = await RedisServer.start()
  try {
    const bare = await bareRedisRoundTrip(server.url)
    log(`bare redis: p50 ${bare.p50.toFixed(3)} ms, p99 ${bare.p99.toFixed(3)} ms over ${bare.samples}`)
    const product = await productRedisRoundTrip(server.url)
    log(
      `redis bus: p50 ${product.p50.toFixed(3)} ms, p99 ${product.p99.toFixed(3)} ms over ${product.samples}`,
    )
    const spread = (s: LatencySummary) => `p99 ${round(s.p99)} ms, mean ${round(s.mean)} ms, n=${s.samples}`
    emit({
      bench: BENCH,
      metric: 'bare XADD/XREADGROUP + LPUSH/BLPOP p50',
      value: round(bare.p50),
      unit: 'ms',
      note: `${spread(bare)}; same redis-server and client library, no product code`,
    })
    emit({
      bench: BENCH,
      metric: 'RedisCommandClient → ClusterMember p50',
      value: round(product.p50),
      unit: 'ms',
      target: { kind: 'max', value: 0.5 },
      note: `${spread(product)}; ${round(product.p50 / bare.p50, 2)}× the bare round trip`,
    })
    emit({
      bench: BENCH,
      metric: 'RedisCommandClient → ClusterMember p99',
      value: round(product.p99),
      unit: 'ms',
      target: { kind: 'max', value: 3 },
      note: `bare p99 ${round(bare.p99)} ms`,
    })
  } finally {
    await server.stop()
  }
}

await busRoundTrip()
await httpRoundTrip()
await redisRoundTrip()
