import type { Client } from '@libsql/client'
import { type LiveConnector, liveConnectors } from './bus/connector-directory.js'
import type { RedisCommands } from './redis/types.js'
import type { MediaStore } from './storage/types.js'

export type ComponentState = 'up' | 'down' | 'not_used'

export interface HealthReport {
  db: ComponentState
  redis: ComponentState
  storage: ComponentState
  connectors: ComponentState
}

export interface HealthProbe {
  /** Reachability of each dependency, at most `cacheMs` old. */
  check(): Promise<HealthReport>
  /**
   * The report `check()` would answer from its cache right now, or undefined when a probe round is
   * due: for answering without waiting.
   */
  peek?(): HealthReport | undefined
  /** The live connectors with their session counts; empty in embedded mode. */
  connectors(): Promise<LiveConnector[]>
}

export interface HealthProbeOptions {
  db: Client
  media: Pick<MediaStore, 'ping'>
  /** Redis when the process uses it. */
  redis?: RedisCommands | undefined
  /**
   * Embedded: the connector runs in this process (`'in-process'`, up while it runs). Split: read
   * from the connectors' heartbeats in Redis.
   */
  connectors: 'in-process' | 'cluster'
  clock?: () => number
  /** How long a result is reused: health checks come often, the answer changes rarely. */
  cacheMs?: number
  /** Each probe gives up after this long, so one hung dependency cannot hold the check up. */
  timeoutMs?: number
}

const within = async <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Health of the product's dependencies, cached so a load balancer polling at high rate costs one
 * probe round per `cacheMs`; concurrent checks share the round in flight. Web APIs only (Workers).
 */
export const createHealthProbe = (options: HealthProbeOptions): HealthProbe => {
  const clock = options.clock ?? Date.now
  const cacheMs = options.cacheMs ?? 1_000
  const timeoutMs = options.timeoutMs ?? 1_000
  let cached: { at: number; report: HealthReport } | null = null
  let running: Promise<HealthReport> | null = null

  const state = async (probe: () => Promise<unknown>): Promise<ComponentState> => {
    try {
      return (await within(probe(), timeoutMs)) === false ? 'down' : 'up'
    } catch {
      return 'down'
    }
  }

  const probeAll = async (): Promise<HealthReport> => {
    const { redis } = options
    const [db, redisState, storage, connectors] = await Promise.all([
      state(() => options.db.execute('SELECT 1')),
      redis ? state(() => redis.call(['PING'])) : Promise.resolve<ComponentState>('not_used'),
      state(() => options.media.ping()),
      options.connectors === 'in-process'
        ? Promise.resolve<ComponentState>('up')
        : redis
          ? state(async () => (await liveConnectors(redis, clock())).length > 0)
          : Promise.resolve<ComponentState>('down'),
    ])
    return { db, redis: redisState, storage, connectors }
  }

  return {
    peek() {
      return cached && clock() - cached.at < cacheMs ? cached.report : undefined
    },
    async check() {
      const now = clock()
      if (cached && now - cached.at < cacheMs) return cached.report
      running ??= probeAll().then(
        (report) => {
          cached = { at: clock(), report }
          running = null
          return report
        },
        (error) => {
          running = null
          throw error
        },
      )
      return running
    },
    async connectors() {
      if (options.connectors === 'in-process' || !options.redis) return []
      return within(liveConnectors(options.redis, clock()), timeoutMs)
    },
  }
}
