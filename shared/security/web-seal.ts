/**
 * AES-256-GCM sealing with WebCrypto (Workers and Node alike), in the format of the connector's
 * auth cipher (connector/auth/auth-cipher.ts): "enc1:" + base64(iv[12] | tag[16] | ciphertext),
 * with `context` bound in as additional data. The API seals what only connectors read back
 * (webhook signing secrets) without needing node:crypto.
 */
const PREFIX = 'enc1:'
const IV_BYTES = 12
const TAG_BYTES = 16

/** The context a webhook's signing secret is sealed under: it decrypts on no other row. */
export const webhookSecretContext = (webhookId: string) => `webhook\u0000${webhookId}`

const toBase64 = (bytes: Uint8Array) => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

export const sealWithWebCrypto = async (key: Uint8Array, plain: string, context: string): Promise<string> => {
  const encoder = new TextEncoder()
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const cryptoKey = await crypto.subtle.importKey('raw', Uint8Array.from(key), 'AES-GCM', false, ['encrypt'])
  // WebCrypto appends the tag to the ciphertext; the stored format puts it first.
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(context), tagLength: TAG_BYTES * 8 },
      cryptoKey,
      encoder.encode(plain),
    ),
  )
  const ciphertext = sealed.subarray(0, sealed.length - TAG_BYTES)
  const tag = sealed.subarray(sealed.length - TAG_BYTES)
  const out = new Uint8Array(IV_BYTES + TAG_BYTES + ciphertext.length)
  out.set(iv, 0)
  out.set(tag, IV_BYTES)
  out.set(ciphertext, IV_BYTES + TAG_BYTES)
  return PREFIX + toBase64(out)
}
