/**
 * The product as the HTTP bench (and the profiler) measures it, with realistic stored data:
 *  - embedded: `startEmbedded` (REST + Socket.IO + the connector in one process, a libSQL file);
 *  - split: the API alone, `startApi` (ROLE=api) with a real `redis-server`, s3rver and a libSQL
 *    file that, as in a real deployment, a connector would have written (here: seeded beforehand).
 * Stored sessions are `closed` (stopped on purpose), so no connector holds a WhatsApp socket for
 * them: only the HTTP path is measured.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { type ApiProcess, startApi } from '../../../api/node.js'
import { type EmbeddedServer, startEmbedded } from '../../../embedded/embedded.js'
import { loadConfig } from '../../../shared/config.js'
import { migrate } from '../../../shared/db/migrations.js'
import { createRepositories } from '../../../shared/db/repositories/index.js'
import type { Repositories, ViewerRecord } from '../../../shared/db/types.js'
import { openDatabase } from '../../../shared/node/db-client.js'
import { RedisServer } from '../../support/redis-server.js'
import { S3TestServer } from '../../support/s3-server.js'
import { BENCH_API_KEY } from './fixtures.js'

export { BENCH_API_KEY }

/** What a product instance holds: the data a read path reads. */
export interface HttpDataSet {
  sessions: number
  /** Statuses of the first session (none without sessions). */
  statuses: number
  /** Viewers of the first session's newest status. */
  viewers: number
}

export const EMPTY: HttpDataSet = { sessions: 0, statuses: 0, viewers: 0 }
export const REALISTIC: HttpDataSet = { sessions: 100, statuses: 20, viewers: 1_000 }

export interface SeededIds {
  /** The session holding the statuses, or null without sessions. */
  sessionId: string | null
  /** Its status with `viewers` viewers, or null. */
  statusId: string | null
}

export interface HttpProduct {
  url: string
  ids: SeededIds
  stop(): Promise<void>
}

const env = (dataDir: string) => ({
  API_KEY: BENCH_API_KEY,
  DATA_DIR: dataDir,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  // The limiter stays in the request path (its cost is measured) but never trips.
  RATE_LIMIT_MAX: String(1_000_000_000),
  // More connections than the load client opens, so the per-address cap stays on but never refuses.
  HTTP_MAX_CONNECTIONS_PER_IP: '1000',
})

const pad = (n: number) => String(n).padStart(3, '0')

/**
 * Sessions with every field a linked, then stopped, account stores (names, numbers, JIDs, the
 * connector that held it, the last error); no linking codes, as none is shown once linked. The
 * first session gets `statuses` statuses spread over the last hours, its newest one `viewers`
 * viewers (one in ten known only by LID), the others a few each.
 */
export const seedHttpData = async (repos: Repositories, data: HttpDataSet): Promise<SeededIds> => {
  const now = Date.now()
  for (let i = 0; i < data.sessions; i++) {
    const id = `account-${pad(i)}`
    const phone = `1555010${pad(i)}0`
    await repos.sessions.create({
      id,
      name: `Customer support line ${pad(i)}`,
      authMethod: i % 2 === 0 ? 'pairing' : 'qrcode',
      phoneNumber: phone,
      state: 'closed',
      ownNumber: phone,
      ownJid: `${phone}:12@s.whatsapp.net`,
      ownLid: `1987654321${pad(i)}:12@lid`,
      pairingCode: null,
      qrCode: null,
      lastError: 'Connection Closed',
      createdAt: now - 86_400_000 + i * 1_000,
    })
    await repos.sessions.update(id, { connectorId: `connector-${(i % 2) + 1}` })
  }
  if (data.sessions === 0) return { sessionId: null, statusId: null }
  const sessionId = `account-${pad(0)}`
  const targets = Array.from({ length: 8 }, (_, i) => `1555020${pad(i)}0`).join(',')
  let newest: string | null = null
  for (let i = 0; i < data.statuses; i++) {
    const createdAt = now - (data.statuses - i) * 600_000
    const status = await repos.statuses.insert({
      sessionId,
      type: i % 3 === 0 ? 'image' : 'text',
      content:
        i % 3 === 0
          ? `1730000000${pad(i)}-ab12cd34.jpg`
          : `Opening hours this week: Mon–Fri 9–18, status ${i}`,
      caption: i % 3 === 0 ? 'New in store' : '',
      backgroundColor: i % 3 === 0 ? null : '#315575',
      font: i % 3 === 0 ? null : 1,
      targetNumbers: targets,
      contactCount: 8,
      waMessageId: `3EB0C78C1A4A5B2D8F${pad(i)}`,
      state: 'sent',
      error: null,
      mediaFilename: null,
      createdAt,
      expiresAt: createdAt + 24 * 3_600_000,
    })
    newest = status.id
    const count = i === data.statuses - 1 ? data.viewers : 5
    const views: ViewerRecord[] = Array.from({ length: count }, (_, v) => {
      const number = `628${String(100_000_000 + v)}`
      const byLid = v % 10 === 9
      return {
        sessionId,
        statusId: status.id,
        jid: byLid ? `20${String(100_000_000_000 + v)}@lid` : `${number}@s.whatsapp.net`,
        number: byLid ? null : number,
        lid: byLid ? `20${String(100_000_000_000 + v)}@lid` : null,
        isReal: !byLid,
        viewedAt: createdAt + 1_000 + v * 250,
      }
    })
    if (views.length) await repos.viewers.recordMany(views)
  }
  return { sessionId, statusId: newest }
}

/** The embedded product on a free port, its data written through its own repositories. */
export const startEmbeddedProduct = async (data: HttpDataSet): Promise<HttpProduct> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-bench-http-'))
  let server: EmbeddedServer
  try {
    server = await startEmbedded({ config: loadConfig(env(dataDir)), logger: pino({ level: 'silent' }) })
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
  const ids = await seedHttpData(server.repos, data)
  return {
    url: server.url.replace('localhost', '127.0.0.1'),
    ids,
    async stop() {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** Redis and an S3 server for split-mode API instances; one set serves several instances. */
export interface SplitInfra {
  redis: RedisServer
  s3: S3TestServer
  stop(): Promise<void>
}

export const startSplitInfra = async (): Promise<SplitInfra> => {
  const redis = await RedisServer.start()
  const s3 = await S3TestServer.start()
  return {
    redis,
    s3,
    async stop() {
      await Promise.allSettled([redis.stop(), s3.close()])
    },
  }
}

/**
 * The API alone (ROLE=api) over a libSQL file seeded beforehand, as connectors would have filled
 * it: the API process sees none of those writes happen.
 */
export const startSplitApi = async (infra: SplitInfra, data: HttpDataSet): Promise<HttpProduct> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-bench-http-split-'))
  const url = `file:${join(dataDir, 'split.db')}`
  const seedDb = await openDatabase(url)
  let ids: SeededIds
  try {
    await migrate(seedDb)
    ids = await seedHttpData(createRepositories(seedDb), data)
  } finally {
    seedDb.close()
  }
  let api: ApiProcess
  try {
    api = await startApi(
      loadConfig({
        ...env(dataDir),
        ROLE: 'api',
        LIBSQL_URL: url,
        REDIS_URL: infra.redis.url,
        ...infra.s3.env,
      }),
      pino({ level: 'silent' }),
    )
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
  return {
    url: `http://127.0.0.1:${api.port}`,
    ids,
    async stop() {
      await api.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** The read paths the bench measures, for a product holding `ids`. */
export const readPaths = (ids: SeededIds) => ({
  health: '/api/health',
  sessions: '/api/sessions',
  ...(ids.sessionId ? { statuses: `/api/sessions/${ids.sessionId}/sent-statuses` } : {}),
  ...(ids.sessionId && ids.statusId
    ? { viewers: `/api/sessions/${ids.sessionId}/status-viewers/${ids.statusId}` }
    : {}),
})
