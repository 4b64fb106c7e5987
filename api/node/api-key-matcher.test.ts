import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createWebApiKeyMatcher } from '../../shared/security/api-key.js'
import { nodeApiKeyMatcher, sha256 } from './api-key-matcher.js'

const KEY = 'wst_Zk3v9Q-configured-key_0123456789'

/** Candidates that differ from the key by as little as possible, and arbitrary ones. */
const candidates = fc.oneof(
  fc.constant(KEY),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc
    .tuple(fc.nat({ max: KEY.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
    .map(([at, ch]) => `${KEY.slice(0, at)}${ch}${KEY.slice(at + 1)}`),
  fc.nat({ max: KEY.length }).map((length) => KEY.slice(0, length)),
  fc.string({ maxLength: 3 }).map((suffix) => `${KEY}${suffix}`),
  fc.constantFrom(KEY.toUpperCase(), ` ${KEY}`, `${KEY}\n`, `${KEY}\u0000`, KEY.normalize('NFD')),
)

describe('Node API key matcher', () => {
  it('hashes as WebCrypto does (SHA-256 of the UTF-8 bytes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), async (value) => {
        const web = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)))
        expect(Buffer.from(sha256(value))).toEqual(Buffer.from(web))
        expect(Buffer.from(sha256(value))).toEqual(createHash('sha256').update(value, 'utf8').digest())
      }),
    )
  })

  it('answers exactly what the WebCrypto matcher (Workers) answers, synchronously', async () => {
    const node = nodeApiKeyMatcher(KEY)
    const web = createWebApiKeyMatcher(KEY)
    await fc.assert(
      fc.asyncProperty(fc.option(candidates, { nil: undefined }), async (candidate) => {
        const answer = node.matches(candidate)
        expect(typeof answer).toBe('boolean')
        expect(answer).toBe(await web.matches(candidate))
        expect(answer).toBe(candidate === KEY)
      }),
      { numRuns: 500 },
    )
  })
})
