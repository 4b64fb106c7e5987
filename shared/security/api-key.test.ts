import { describe, expect, it, vi } from 'vitest'
import {
  apiKeyMatches,
  createApiKeyMatcher,
  createWebApiKeyMatcher,
  DIGEST_BYTES,
  digestsEqual,
  type SyncDigest,
} from './api-key.js'

const KEY = 'wst_configured-key-0123456789abcdef'

/** A stand-in digest that records what it was asked to hash (32 bytes, like SHA-256). */
const recordingDigest = () => {
  const hashed: string[] = []
  const digest: SyncDigest = (value) => {
    hashed.push(value)
    const bytes = new Uint8Array(DIGEST_BYTES)
    for (let i = 0; i < value.length; i++)
      bytes[i % DIGEST_BYTES] = (bytes[i % DIGEST_BYTES] ?? 0) ^ value.charCodeAt(i)
    return bytes
  }
  return { digest, hashed }
}

/** A digest whose element reads are counted, to see how much of it a comparison looks at. */
const counted = (bytes: Uint8Array) => {
  let reads = 0
  const proxy = new Proxy(bytes, {
    get(target, property) {
      if (typeof property === 'string' && /^\d+$/.test(property)) reads++
      return Reflect.get(target, property)
    },
  })
  return { proxy, reads: () => reads }
}

describe('API key matcher', () => {
  it('hashes the configured key once, then only the candidate, and compares digests, never strings', () => {
    const { digest, hashed } = recordingDigest()
    const equal = vi.fn(digestsEqual)
    const matcher = createApiKeyMatcher(KEY, digest, equal)
    expect(hashed).toEqual([KEY])
    for (const candidate of [KEY, 'x', `${KEY}x`, 'y'.repeat(10_000), 'ünïcödé-key']) {
      expect(matcher.matches(candidate)).toBe(candidate === KEY)
    }
    // One digest per candidate, the configured key never again.
    expect(hashed.slice(1)).toEqual([KEY, 'x', `${KEY}x`, 'y'.repeat(10_000), 'ünïcödé-key'])
    // Every comparison is of two 32-byte digests, whatever the candidate's length.
    expect(equal).toHaveBeenCalledTimes(5)
    for (const [a, b] of equal.mock.calls) {
      expect(a).toBeInstanceOf(Uint8Array)
      expect([a.length, b.length]).toEqual([DIGEST_BYTES, DIGEST_BYTES])
    }
  })

  it('refuses an absent or empty key without hashing anything', () => {
    const { digest, hashed } = recordingDigest()
    const matcher = createApiKeyMatcher(KEY, digest)
    for (const candidate of [null, undefined, '']) expect(matcher.matches(candidate)).toBe(false)
    expect(hashed).toEqual([KEY])
  })

  it('compares every byte, wherever the first difference is (no early exit)', () => {
    const reference = new Uint8Array(DIGEST_BYTES).map((_, i) => i * 7)
    const differingAt = (position: number | null) => {
      const other = reference.slice()
      if (position !== null) other[position] = (other[position] ?? 0) ^ 0xff
      return other
    }
    const readsFor = (position: number | null) => {
      const a = counted(reference)
      const b = counted(differingAt(position))
      const equal = digestsEqual(a.proxy, b.proxy)
      return { equal, reads: [a.reads(), b.reads()] }
    }
    expect(readsFor(null)).toEqual({ equal: true, reads: [DIGEST_BYTES, DIGEST_BYTES] })
    for (const position of [0, 1, 15, 31]) {
      expect(readsFor(position)).toEqual({ equal: false, reads: [DIGEST_BYTES, DIGEST_BYTES] })
    }
  })

  it('WebCrypto matcher: the same answers, the configured key hashed once', async () => {
    const digest = vi.spyOn(crypto.subtle, 'digest')
    const matcher = createWebApiKeyMatcher(KEY)
    expect(await matcher.matches(KEY)).toBe(true)
    expect(await matcher.matches(`${KEY} `)).toBe(false)
    expect(await matcher.matches('')).toBe(false)
    expect(await matcher.matches(KEY)).toBe(true)
    // 1 for the configured key, 1 per non-empty candidate.
    expect(digest).toHaveBeenCalledTimes(4)
    digest.mockRestore()
  })

  it('apiKeyMatches (one-off checks) agrees and reuses the matcher of the same key', async () => {
    expect(await apiKeyMatches(KEY, KEY)).toBe(true)
    expect(await apiKeyMatches('nope-nope-nope-nope', KEY)).toBe(false)
    expect(await apiKeyMatches(null, KEY)).toBe(false)
    expect(await apiKeyMatches('other-key-0123456789', 'other-key-0123456789')).toBe(true)
  })
})
