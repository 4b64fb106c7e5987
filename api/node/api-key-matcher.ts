import * as nodeCrypto from 'node:crypto'
import {
  type ApiKeyMatcher,
  createApiKeyMatcher,
  type DigestEquality,
  type SyncDigest,
} from '../../shared/security/api-key.js'

/**
 * SHA-256 on the calling thread. `crypto.hash` (Node ≥ 20.12) skips the Hash object; older 20.x
 * lines fall back to createHash. Either is a microsecond or two for a key, where WebCrypto's
 * digest is a promise settled from the thread pool.
 */
export const sha256: SyncDigest =
  typeof nodeCrypto.hash === 'function'
    ? (value) => nodeCrypto.hash('sha256', value, 'buffer') as Buffer
    : (value) => nodeCrypto.createHash('sha256').update(value).digest()

/** node:crypto's constant-time comparison; digests always have the same length. */
const timingSafeEqual: DigestEquality = (a, b) => a.length === b.length && nodeCrypto.timingSafeEqual(a, b)

/** The API key matcher of Node processes: synchronous, so a request never waits for it. */
export const nodeApiKeyMatcher = (expected: string): ApiKeyMatcher =>
  createApiKeyMatcher(expected, sha256, timingSafeEqual)
