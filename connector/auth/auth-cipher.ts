import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { AppError } from '../../shared/errors.js'

/**
 * Optional AES-256-GCM for auth values at rest. A sealed value is
 * "enc1:" + base64(iv[12] | tag[16] | ciphertext), with a fresh random IV per value. The row's
 * identity (`context`) is bound in as additional data, so a sealed value copied onto another row
 * or session does not decrypt. Values without the prefix are plain JSON and are still read, so
 * turning encryption on later needs no migration.
 */
export interface ValueCipher {
  seal(plain: string, context: string): string
  open(stored: string, context: string): string
}

/**
 * The context of each auth row: `wa_auth_creds` rows by session, `wa_auth_keys` rows by session,
 * type and id. The auth state and the key rotation both seal with these, so they cannot drift apart.
 */
export const authCredsContext = (sessionId: string) => `${sessionId}\u0000creds`
export const authKeyContext = (sessionId: string, type: string, id: string) =>
  `${sessionId}\u0000${type}\u0000${id}`

const PREFIX = 'enc1:'
const IV_BYTES = 12
const TAG_BYTES = 16

export function createValueCipher(key?: Uint8Array): ValueCipher {
  if (key !== undefined && key.length !== 32) {
    throw new AppError('internal', 'The auth encryption key must be 32 bytes')
  }
  return {
    seal(plain, context) {
      if (!key) return plain
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context))
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')
    },

    open(stored, context) {
      if (!stored.startsWith(PREFIX)) return stored
      if (!key) {
        throw new AppError('internal', 'Auth state is encrypted but no encryption key is configured')
      }
      const sealed = Buffer.from(stored.slice(PREFIX.length), 'base64')
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES))
        decipher.setAAD(Buffer.from(context))
        decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
        return Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8')
      } catch {
        // The cause would only say "unable to authenticate data"; name the likely reason instead.
        throw new AppError(
          'internal',
          'Auth state cannot be decrypted: wrong encryption key or corrupted value',
        )
      }
    },
  }
}
