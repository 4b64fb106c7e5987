import {
  type AuthenticationState,
  type CacheStore,
  makeCacheableSignalKeyStore,
  proto,
  type UserFacingSocketConfig,
} from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { Config } from '../shared/config.js'

const SKIPPED_HISTORY_SYNCS = new Set<number>([
  proto.HistorySync.HistorySyncType.FULL,
  proto.HistorySync.HistorySyncType.RECENT,
  proto.HistorySync.HistorySyncType.ON_DEMAND,
])

/** How often an idle socket pings WhatsApp. */
export const KEEP_ALIVE_INTERVAL_MS = 60_000

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

/**
 * Baileys logs stanzas and message details at debug and trace. Its logger never goes below `warn`
 * (or below the product's level when that is stricter), so no message content reaches the logs.
 */
export const baileysLogger = (logger: Logger): Logger => {
  const productLevel = LEVEL_ORDER.indexOf(logger.level as (typeof LEVEL_ORDER)[number])
  const level = productLevel > LEVEL_ORDER.indexOf('warn') ? logger.level : 'warn'
  return logger.child({ module: 'baileys' }, { level })
}

export interface SocketConfigInput {
  config: Pick<Config, 'WA_WS_URL' | 'WA_VERSION' | 'WA_UPLOAD_HOSTS'>
  auth: AuthenticationState
  /** This session's slice of the connector's shared, size-capped key cache. */
  keyCache: CacheStore
  logger: Logger
  /** Extra Baileys options (e.g. a `fetchAgent` that trusts a test server's CA). */
  extra?: ExtraSocketOptions | undefined
}

/** Baileys options a deployment or a test may add; the ones the product relies on stay fixed. */
export type ExtraSocketOptions = Partial<Omit<UserFacingSocketConfig, 'auth' | 'logger' | 'shouldIgnoreJid'>>

/** Options for every Baileys socket the connector opens. */
export const buildSocketConfig = ({
  config,
  auth,
  keyCache,
  logger,
  extra,
}: SocketConfigInput): UserFacingSocketConfig => {
  const waLogger: NonNullable<UserFacingSocketConfig['logger']> = baileysLogger(logger)
  return {
    auth: { creds: auth.creds, keys: makeCacheableSignalKeyStore(auth.keys, waLogger, keyCache) },
    logger: waLogger,
    ...(config.WA_WS_URL ? { waWebSocketUrl: config.WA_WS_URL } : {}),
    ...(config.WA_VERSION ? { version: config.WA_VERSION } : {}),
    customUploadHosts: config.WA_UPLOAD_HOSTS.map((hostname) => ({
      hostname,
      maxContentLengthBytes: Number.MAX_SAFE_INTEGER,
    })),
    // Baileys pings every 30 s by default; once a minute keeps an idle socket's timers at one wake
    // per minute and still finds a dead connection within about two (it gives up 5 s past the
    // interval without a frame).
    keepAliveIntervalMs: KEEP_ALIVE_INTERVAL_MS,
    ...extra,
    printQRInTerminal: false,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    // Chat history is not needed, but the small bootstrap syncs carry the contacts' LID ↔ phone
    // pairs (and push names) that turn LID viewers into phone numbers: keep those, skip the bulk.
    shouldSyncHistoryMessage: ({ syncType }) => !SKIPPED_HISTORY_SYNCS.has(syncType ?? -1),
    // Never ignore anything: ignoring `status@broadcast` (a common snippet) drops every status view.
    shouldIgnoreJid: () => false,
    // No message store: retries of old messages are not supported, which statuses do not need.
    getMessage: async () => undefined,
  }
}
