import type { Client } from '@libsql/client'
import { type Config, usesS3 } from '../config.js'
import { migrate } from '../db/migrations.js'
import { createRepositories } from '../db/repositories/index.js'
import type { Repositories } from '../db/types.js'
import type { RedisCommands } from '../redis/types.js'
import type { MediaStore } from '../storage/types.js'
import { openDatabase } from './db-client.js'
import { LocalMediaStore, type LocalMediaStoreOptions } from './local-media-store.js'
import type { Logger } from './logger.js'

/*
 * The AWS SDK and the Redis clients are loaded only by processes configured to use them (tens of
 * MB of memory each): the zero-config embedded product needs neither.
 */

/**
 * The outside resources a Node process of the product opens, built from the config the same way
 * by every entry (embedded, API, connector).
 */

export interface Database {
  db: Client
  repos: Repositories
}

/** Opens the database and brings its schema up to date (concurrent starts apply each step once). */
export const openDataStore = async (url: string, config: Config, logger: Logger): Promise<Database> => {
  const db = await openDatabase(url, config.LIBSQL_AUTH_TOKEN)
  const applied = await migrate(db)
  if (applied.length) logger.info({ versions: applied }, 'database migrations applied')
  return { db, repos: createRepositories(db) }
}

/** S3 when configured, else the local media folder (embedded mode). */
export const openMediaStore = async (config: Config, local: LocalMediaStoreOptions): Promise<MediaStore> => {
  if (!usesS3(config)) return new LocalMediaStore(local)
  const { S3MediaStore, s3StoreOptions } = await import('../storage/s3.js')
  return new S3MediaStore(s3StoreOptions(config))
}

/** The API's Redis: TCP when REDIS_URL is set, else the Upstash REST API; null when neither is. */
export const openRedisCommands = async (config: Config): Promise<RedisCommands | null> => {
  if (config.REDIS_URL) return (await import('./node-redis.js')).nodeRedisCommands(config.REDIS_URL)
  if (config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN) {
    const { upstashCommands } = await import('../redis/upstash.js')
    return upstashCommands({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN })
  }
  return null
}
