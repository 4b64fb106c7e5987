import { describe, expect, it } from 'vitest'
import { createValueCipher } from '../../connector/auth/auth-cipher.js'
import { sealWithWebCrypto, webhookSecretContext } from './web-seal.js'

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1)

describe('WebCrypto sealing', () => {
  it("is opened by the connector's cipher, only with the same key and context", async () => {
    const context = webhookSecretContext('wh_0123456789ab')
    const sealed = await sealWithWebCrypto(KEY, 'whsec_secret-value', context)
    expect(sealed).toMatch(/^enc1:/)
    expect(sealed).not.toContain('secret-value')
    expect(createValueCipher(KEY).open(sealed, context)).toBe('whsec_secret-value')
    expect(() => createValueCipher(KEY).open(sealed, webhookSecretContext('wh_other000000'))).toThrow()
    expect(() => createValueCipher(Uint8Array.from(KEY).reverse()).open(sealed, context)).toThrow()
    // And the other way round: what the connector seals, in the same format.
    const nodeSealed = createValueCipher(KEY).seal('x', context)
    expect(nodeSealed.slice(0, 5)).toBe(sealed.slice(0, 5))
  })
})
