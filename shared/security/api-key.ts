/**
 * API key checks that take the same time whatever the candidate: the candidate is hashed with
 * SHA-256 and its digest compared with the configured key's digest over all 32 bytes, so the time
 * depends neither on the key's length nor on where a guess first differs, and the key itself is
 * never compared as a string. The configured key is hashed once, when the matcher is built, not per
 * request. This file uses Web APIs only (the Workers build); Node entries inject a synchronous
 * node:crypto digest instead (`api/node/api-key-matcher.ts`), which answers without WebCrypto's
 * round trip through the thread pool.
 */

/** SHA-256 of a string's UTF-8 bytes, synchronously (node:crypto on Node). */
export type SyncDigest = (value: string) => Uint8Array

/** Compares two digests of the same length in constant time. */
export type DigestEquality = (a: Uint8Array, b: Uint8Array) => boolean

export interface ApiKeyMatcher {
  /**
   * Whether `candidate` is the configured key. Synchronous where the runtime hashes synchronously
   * (Node), a promise otherwise (WebCrypto), so a caller awaits only when it has to.
   */
  matches(candidate: string | null | undefined): boolean | Promise<boolean>
}

/** SHA-256 digests are this long: every comparison covers exactly this many bytes. */
export const DIGEST_BYTES = 32

/**
 * Constant-time equality of two digests: every byte pair is looked at, whatever the first
 * difference, and the answer is folded into one value read once at the end.
 */
export const digestsEqual: DigestEquality = (a, b) => {
  let diff = a.length ^ b.length
  for (let i = 0; i < DIGEST_BYTES; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return diff === 0
}

/** An empty or absent key says nothing about the configured one, so it is refused at once. */
const isCandidate = (candidate: string | null | undefined): candidate is string =>
  typeof candidate === 'string' && candidate.length > 0

/** A matcher over a synchronous digest: one hash of the candidate and one comparison per call. */
export const createApiKeyMatcher = (
  expected: string,
  digest: SyncDigest,
  equal: DigestEquality = digestsEqual,
): ApiKeyMatcher => {
  const expectedDigest = digest(expected)
  return {
    matches: (candidate) => isCandidate(candidate) && equal(digest(candidate), expectedDigest),
  }
}

const encoder = new TextEncoder()

const webDigest = async (value: string) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)))

/**
 * The matcher on runtimes without a synchronous SHA-256 (Workers): WebCrypto for the candidate,
 * the configured key's digest computed once and reused.
 */
export const createWebApiKeyMatcher = (
  expected: string,
  equal: DigestEquality = digestsEqual,
): ApiKeyMatcher => {
  let expectedDigest: Promise<Uint8Array> | null = null
  return {
    async matches(candidate) {
      if (!isCandidate(candidate)) return false
      expectedDigest ??= webDigest(expected)
      const [a, b] = await Promise.all([webDigest(candidate), expectedDigest])
      return equal(a, b)
    },
  }
}

let lastMatcher: { expected: string; matcher: ApiKeyMatcher } | null = null

/**
 * One-off check for callers that do not keep a matcher (the Socket.IO handshake). The matcher of
 * the last key asked about is kept, so a process checking one key hashes it once.
 */
export const apiKeyMatches = async (
  candidate: string | null | undefined,
  expected: string,
): Promise<boolean> => {
  if (lastMatcher?.expected !== expected) {
    lastMatcher = { expected, matcher: createWebApiKeyMatcher(expected) }
  }
  return lastMatcher.matcher.matches(candidate)
}

/** Reads a key from `x-api-key` or `Authorization: Bearer …`. */
export const apiKeyFromHeaders = (get: (name: string) => string | null | undefined): string | null => {
  const direct = get('x-api-key')
  if (direct) return direct.trim()
  const auth = get('authorization')
  const match = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null
  return match?.[1]?.trim() ?? null
}
