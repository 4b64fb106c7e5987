import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import { createApp } from '../../../api/app.js'
import type { App } from '../../../api/types.js'
import { InProcessBus } from '../../../shared/bus/in-process.js'
import { type Config, loadConfig } from '../../../shared/config.js'
import { migrate } from '../../../shared/db/migrations.js'
import { createRepositories } from '../../../shared/db/repositories/index.js'
import type { Repositories, SessionRecord } from '../../../shared/db/types.js'
// The db entry also loads Baileys; the API-side benches need only these parts of it.
import { openDatabase } from '../../../shared/node/db-client.js'
import { LocalMediaStore } from '../../../shared/node/local-media-store.js'
import { uploadLinkSecretFromApiKey } from '../../../shared/storage/upload-signature.js'

export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef'

export interface BenchDatabase {
  dir: string
  client: Client
  repos: Repositories
  cleanup(): Promise<void>
}

/** A migrated libSQL file in a fresh temp dir, as the product opens it. */
export const openBenchDatabase = async (): Promise<BenchDatabase> => {
  const dir = await mkdtemp(join(tmpdir(), 'wa-bench-'))
  const client = await openDatabase(`file:${join(dir, 'bench.db')}`)
  await migrate(client)
  return {
    dir,
    client,
    repos: createRepositories(client),
    async cleanup() {
      client.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export const benchConfig = (env: Record<string, string> = {}): Config =>
  loadConfig({
    API_KEY: BENCH_API_KEY,
    // The limiter stays in the request path (its cost is part of the measurement) but never trips.
    RATE_LIMIT_MAX: String(1_000_000_000),
    LOG_LEVEL: 'silent',
    ...env,
  })

/** A stored session row with the fields a fresh pairing session has. */
export const newSession = (
  id: string,
  phoneNumber: string,
): Omit<SessionRecord, 'createdAt' | 'updatedAt' | 'connectorId'> => ({
  id,
  name: `Bench ${id}`,
  authMethod: 'pairing',
  phoneNumber,
  state: 'created',
  ownNumber: null,
  ownJid: null,
  ownLid: null,
  pairingCode: null,
  qrCode: null,
  lastError: null,
})

export interface BenchApp {
  app: App
  bus: InProcessBus
  db: BenchDatabase
  close(): Promise<void>
}

/**
 * The real HTTP app (every middleware, real repositories on a libSQL file) over an in-process bus
 * whose connector answers every command at once, so only the API's own cost is measured.
 */
export const createBenchApp = async (): Promise<BenchApp> => {
  const db = await openBenchDatabase()
  const config = benchConfig({ DATA_DIR: db.dir })
  const bus = new InProcessBus()
  bus.serve(async (command) => (command.name === 'session.delete' ? { loggedOut: false } : { ok: true }))
  const media = new LocalMediaStore({
    dir: join(db.dir, 'media'),
    publicUrl: 'http://localhost',
    secret: uploadLinkSecretFromApiKey(BENCH_API_KEY),
  })
  const app = createApp({
    config,
    repos: db.repos,
    commands: bus,
    events: bus,
    media,
    apiKey: BENCH_API_KEY,
    version: '0.0.0-bench',
    startedAt: Date.now(),
  })
  return {
    app,
    bus,
    db,
    async close() {
      await bus.close()
      await db.cleanup()
    },
  }
}
