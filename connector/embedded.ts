import type { Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { serve } from '@hono/node-server'
import type { Client } from '@libsql/client'
import { createApp } from '../api/app.js'
import { nodeHostResolver } from '../api/node/host-resolver.js'
import { applyHttpGuards, httpServerOptions } from '../api/node/http-guards.js'
import packageJson from '../package.json' with { type: 'json' }
import { InProcessBus } from '../shared/bus/in-process.js'
import type { Config } from '../shared/config.js'
import {
  createRepositories,
  localFilePath,
  migrate,
  openDatabase,
  type Repositories,
} from '../shared/db/index.js'
import { rateLimiterFromConfig } from '../shared/security/rate-limit.js'
import { LocalMediaStore } from '../shared/storage/local.js'
import { uploadLinkSecretFromApiKey } from '../shared/storage/upload-signature.js'
import { type ResolvedApiKey, resolveApiKey } from './api-key-file.js'
import { Connector, type ConnectorDeps } from './connector.js'
import { secureDataDir } from './data-dir.js'
import type { Logger } from './logger.js'
import { SocketGateway } from './socket-gateway.js'

export interface EmbeddedOptions {
  config: Config
  logger: Logger
  /** Connector overrides for tests (socket double, fast backoff). */
  connector?: Partial<Pick<ConnectorDeps, 'socketFactory' | 'backoff' | 'ingest' | 'fetchUrlMedia'>>
}

export interface EmbeddedServer {
  url: string
  port: number
  apiKey: ResolvedApiKey
  repos: Repositories
  db: Client
  bus: InProcessBus
  connector: Connector
  stop(): Promise<void>
}

/**
 * The whole product in one process: libSQL file, local media folder, in-process bus, the connector,
 * and REST + Socket.IO on one port. `npm start`, the demo and end-to-end tests all start it here.
 */
export const startEmbedded = async ({
  config,
  logger,
  connector: overrides,
}: EmbeddedOptions): Promise<EmbeddedServer> => {
  const startedAt = Date.now()
  const dataDir = resolve(config.DATA_DIR)
  const databaseUrl = config.LIBSQL_URL ?? `file:${join(dataDir, 'tracker.db')}`
  const mediaDir = join(dataDir, 'media')
  await secureDataDir({ dataDir, databasePath: localFilePath(databaseUrl), mediaDir, logger })
  if (!config.AUTH_ENCRYPTION_KEY) {
    logger.warn(
      'AUTH_ENCRYPTION_KEY is not set: WhatsApp credentials and keys are stored unencrypted in the database (see "Data at rest" in the README)',
    )
  }
  const apiKey = await resolveApiKey(dataDir, config.API_KEY)

  const db = await openDatabase(databaseUrl, config.LIBSQL_AUTH_TOKEN)
  const applied = await migrate(db)
  if (applied.length) logger.info({ versions: applied }, 'database migrations applied')
  const repos = createRepositories(db)
  const bus = new InProcessBus()
  const uploadLinkSecret = uploadLinkSecretFromApiKey(apiKey.key)

  // The public URL goes into signed upload links; the port is only known after listening when PORT=0.
  let publicUrl = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`
  const media = new LocalMediaStore({
    dir: mediaDir,
    publicUrl: () => publicUrl,
    secret: uploadLinkSecret,
  })

  // One limiter for REST and the Socket.IO handshake, so both count against the same buckets.
  const rateLimiter = rateLimiterFromConfig(config)
  const app = createApp({
    config,
    repos,
    bus,
    media,
    apiKey: apiKey.key,
    version: packageJson.version,
    startedAt,
    logger,
    resolveHost: nodeHostResolver,
    uploadLinkSecret,
    rateLimiter,
  })

  const connector = new Connector({ config, db, repos, bus, media, logger, ...overrides })

  const server = await new Promise<HttpServer>((resolveServer, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: config.PORT,
        hostname: config.HOST,
        serverOptions: httpServerOptions(config),
      },
      () => resolveServer(s as HttpServer),
    )
    s.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  if (!config.PUBLIC_URL) publicUrl = `http://localhost:${port}`

  const gateway = new SocketGateway(server, bus, apiKey.key, { rateLimiter, trustProxy: config.TRUST_PROXY })
  // After Socket.IO attached, so the body watch also sees its long-polling requests.
  applyHttpGuards(server, config)
  gateway.start()
  await connector.start()

  let stopping: Promise<void> | null = null
  const stop = () => {
    stopping ??= (async () => {
      // Order matters: stop taking commands and close WhatsApp sockets (without logging out) and
      // flush viewer writes first, then close client connections, then the database.
      await connector.stop()
      await gateway.stop()
      await new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections?.()
      })
      await bus.close()
      db.close()
    })()
    return stopping
  }

  return { url: `http://localhost:${port}`, port, apiKey, repos, db, bus, connector, stop }
}
