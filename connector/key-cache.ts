import type { CacheStore } from '@whiskeysockets/baileys'
import { keyValueForMemory } from './dictionaries.js'
import { LruMap } from './lru.js'

/** Baileys' cache keys are `${type}.${id}`. */
const typeOf = (key: string): string => key.slice(0, Math.max(0, key.indexOf('.')))

/**
 * One size-capped cache for the Signal key stores of every session of this connector. Baileys'
 * default is a cache per socket with a TTL timer each; with a thousand sessions that is a thousand
 * timers and no bound on memory. Here the whole process shares `capacity` entries and each session
 * sees its own slice through a key prefix. Values are kept with their id-keyed maps as
 * dictionaries (see dictionaries.ts), so a thousand sessions' records leave V8's shared object
 * shapes alone.
 */
export class SharedKeyCache {
  private readonly lru: LruMap<string, unknown>

  constructor(capacity = 50_000) {
    this.lru = new LruMap(capacity)
  }

  get size(): number {
    return this.lru.size
  }

  /** A `CacheStore` for `makeCacheableSignalKeyStore`, scoped to one session. */
  forSession(sessionId: string): CacheStore {
    const prefix = `${sessionId}\u0000`
    const lru = this.lru
    return {
      get: <T>(key: string) => lru.get(prefix + key) as T | undefined,
      set: <T>(key: string, value: T) => {
        lru.set(prefix + key, keyValueForMemory(typeOf(key), value))
      },
      del: (key: string) => {
        lru.delete(prefix + key)
      },
      flushAll: () => lru.deleteWhere((key) => key.startsWith(prefix)),
    }
  }

  /** Forgets a session's entries (after its creds are wiped). */
  dropSession(sessionId: string): void {
    const prefix = `${sessionId}\u0000`
    this.lru.deleteWhere((key) => key.startsWith(prefix))
  }
}
