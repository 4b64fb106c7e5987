/**
 * The product with one session linked by pairing code to the simulator, in its own process, for the
 * benches that compare it with bare Baileys (support/product-and-bare.ts):
 *
 *   node --import tsx tests/bench/support/burst-product.ts <json BurstProductOptions>
 *
 * `embedded`: `startEmbedded` (REST, Socket.IO and the connector with real Baileys in one process,
 * a libSQL file). `split`: the API and one connector, each started by its real entry function in
 * this process, reaching each other only through a real `redis-server` (its own process), an S3
 * API (s3rver) and one shared libSQL file, as the e2e suite runs them.
 *
 * The session is created and linked through the REST API. Prints one JSON line (`{ url, sessionId }`)
 * once it is open; everything else goes through the API with `BENCH_API_KEY`, but for one thing:
 * each line on stdin is answered with a line `{ cpuMicros }`, the CPU time this process has used
 * so far. SIGTERM stops it the way a shutdown does and exits normally, so a `--cpu-prof` run
 * writes its profile.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import pino from 'pino'
import { startApi } from '../../../api/node.js'
import { startConnector } from '../../../connector/main.js'
import { startEmbedded } from '../../../embedded/embedded.js'
import { loadConfig } from '../../../shared/config.js'
import { applyV8Flags } from '../../../shared/node/v8-tuning.js'
import { RedisServer } from '../../support/redis-server.js'
import { S3TestServer } from '../../support/s3-server.js'
import { BENCH_API_KEY } from './fixtures.js'

// The product runs with these flags (shared/node/process-entry.ts).
applyV8Flags()

export interface BurstProductOptions {
  mode?: 'embedded' | 'split'
  dataDir: string
  /** The simulator's WebSocket URL. */
  wsUrl: string
  /** The simulator's control API (pairing codes). */
  simControlUrl: string
  /** The owner's phone number; its simulator account must exist. */
  phone: string
  /** Product settings on top of the ones below (e.g. `STATUS_CHUNK_SIZE`); they win over them. */
  env?: Record<string, string>
}

const SESSION_ID = 'burst'
const WAIT_MS = 60_000

// tsx maps stack traces to the TypeScript sources, and Baileys takes a stack trace for every
// stanza it sends (two per receipt ack): both sides would spend a fifth of a burst on source maps,
// which `npm start` (plain node on the build) never does.
process.setSourceMapsEnabled(false)
const options = JSON.parse(process.argv[2] ?? '{}') as BurstProductOptions
const logger = pino({ level: 'silent' })
const env = {
  PORT: '0',
  HOST: '127.0.0.1',
  API_KEY: BENCH_API_KEY,
  DATA_DIR: options.dataDir,
  WA_WS_URL: options.wsUrl,
  LOG_LEVEL: 'silent',
  // The bench polls the API as fast as the product answers.
  RATE_LIMIT_MAX: String(1_000_000_000),
  HTTP_MAX_CONNECTIONS_PER_IP: '0',
  ...options.env,
}

interface Running {
  url: string
  stop(): Promise<void>
}

const startSplit = async (): Promise<Running> => {
  const redis = await RedisServer.start()
  const s3 = await S3TestServer.start()
  const splitEnv = {
    ...env,
    LIBSQL_URL: `file:${join(options.dataDir, 'tracker.db')}`,
    REDIS_URL: redis.url,
    ...s3.env,
  }
  const connector = await startConnector(
    loadConfig({ ...splitEnv, ROLE: 'connector', CONNECTOR_ID: 'bench-connector' }),
    logger,
  )
  const api = await startApi(loadConfig({ ...splitEnv, ROLE: 'api' }), logger)
  return {
    url: `http://127.0.0.1:${api.port}`,
    async stop() {
      await api.stop()
      await connector.stop()
      await s3.close()
      await redis.stop()
    },
  }
}

const startEmbeddedProduct = async (): Promise<Running> => {
  const product = await startEmbedded({ config: loadConfig(env), logger })
  return { url: `http://127.0.0.1:${product.port}`, stop: () => product.stop() }
}

const running = options.mode === 'split' ? await startSplit() : await startEmbeddedProduct()

const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${running.url}${path}`, {
    method,
    headers: {
      'x-api-key': BENCH_API_KEY,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const json = (await response.json()) as { data?: T; error?: string }
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${json.error}`)
  return json.data as T
}

/** Polls `read` until it returns a value, for at most WAIT_MS. */
const poll = async <T>(read: () => Promise<T | undefined>, what: string): Promise<T> => {
  const deadline = Date.now() + WAIT_MS
  while (Date.now() < deadline) {
    const found = await read()
    if (found !== undefined) return found
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

await call('POST', '/api/sessions', {
  sessionId: SESSION_ID,
  sessionName: 'Bench',
  authMethod: 'pairing',
  phoneNumber: options.phone,
})
const code = await poll(async () => {
  const { pairingCode } = await call<{ pairingCode: string | null }>(
    'GET',
    `/api/sessions/${SESSION_ID}/pairing-code`,
  )
  return pairingCode ?? undefined
}, 'the pairing code')
const entered = await fetch(`${options.simControlUrl}/accounts/${options.phone}/pairing-code`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ code }),
})
if (!entered.ok) throw new Error(`simulator refused the pairing code: ${entered.status}`)
await poll(async () => {
  const { connected } = await call<{ connected: boolean }>(
    'GET',
    `/api/sessions/${SESSION_ID}/connection-status`,
  )
  return connected || undefined
}, 'the session to open')

process.stdout.write(`${JSON.stringify({ url: running.url, sessionId: SESSION_ID })}\n`)

process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  const { user, system } = process.cpuUsage()
  for (const _ of chunk.split('\n').slice(1))
    process.stdout.write(`${JSON.stringify({ cpuMicros: user + system })}\n`)
})

const shutdown = () => {
  void (async () => {
    await running.stop()
    await rm(options.dataDir, { recursive: true, force: true })
  })().finally(() => process.exit(0))
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)
