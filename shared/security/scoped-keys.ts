import type { ApiKeyRecord, ApiKeysRepo, KeyScope } from '../db/types.js'

/** Every scoped key starts so: the admin key check is skipped for them, and they are easy to spot. */
export const SCOPED_KEY_PREFIX = 'wsk_'

/** A key's access: `send` includes `read`, `admin` includes both. */
export interface ScopedKey {
  id: string
  scopes: ReadonlySet<KeyScope>
  /** null: every session. */
  sessionIds: ReadonlySet<string> | null
}

const IMPLIED: Record<KeyScope, KeyScope[]> = {
  read: ['read'],
  send: ['send', 'read'],
  admin: ['admin', 'send', 'read'],
}

export const toScopedKey = (record: ApiKeyRecord): ScopedKey => ({
  id: record.id,
  scopes: new Set(record.scopes.flatMap((scope) => IMPLIED[scope])),
  sessionIds: record.sessionIds === null ? null : new Set(record.sessionIds),
})

export const mayUseSession = (key: ScopedKey, sessionId: string) =>
  key.sessionIds === null || key.sessionIds.has(sessionId)

const encoder = new TextEncoder()

/** Hex SHA-256 of a key (WebCrypto: Node and Workers), the form it is stored and looked up in. */
export const hashApiKey = async (key: string): Promise<string> =>
  Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(key))), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')

/** How long a looked-up key is reused: another process's revocation takes effect within this. */
export const SCOPED_KEY_CACHE_MS = 2_000
/** The last-used time is written at most this often per key and process. */
const TOUCH_EVERY_MS = 60_000
/** Distinct candidates remembered; past it the memory starts over (random guesses cannot grow it). */
const MAX_CACHED = 1_000

/**
 * Finds the scoped key a request carries: looked up by its digest, kept for a moment so a client's
 * requests cost no query each, and refused once revoked (at once in the process that revoked it,
 * within SCOPED_KEY_CACHE_MS elsewhere). Records the last-used time, at most once a minute.
 */
export class ScopedKeyResolver {
  private readonly cache = new Map<string, { at: number; key: Promise<ScopedKey | null> }>()
  private readonly touched = new Map<string, number>()

  constructor(
    private readonly repo: ApiKeysRepo,
    private readonly clock: () => number = Date.now,
  ) {}

  resolve(candidate: string | null | undefined): Promise<ScopedKey | null> | null {
    if (!candidate?.startsWith(SCOPED_KEY_PREFIX)) return null
    const now = this.clock()
    const cached = this.cache.get(candidate)
    if (cached && now - cached.at < SCOPED_KEY_CACHE_MS) return cached.key.then((key) => this.used(key, now))
    if (this.cache.size >= MAX_CACHED) this.cache.clear()
    const key = this.lookUp(candidate)
    this.cache.set(candidate, { at: now, key })
    return key.then((found) => this.used(found, now))
  }

  /** A key revoked here stops working here at once. */
  forget(): void {
    this.cache.clear()
  }

  private async lookUp(candidate: string): Promise<ScopedKey | null> {
    try {
      const record = await this.repo.findByHash(await hashApiKey(candidate))
      return record && record.revokedAt === null ? toScopedKey(record) : null
    } catch (error) {
      // Not cached: the next request asks the database again.
      this.cache.delete(candidate)
      throw error
    }
  }

  private used(key: ScopedKey | null, now: number): ScopedKey | null {
    if (key && now - (this.touched.get(key.id) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(key.id, now)
      this.repo.touch(key.id, now).catch(() => this.touched.delete(key.id))
    }
    return key
  }
}
