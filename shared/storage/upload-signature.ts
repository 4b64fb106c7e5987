/**
 * Signed upload links for media stores that receive uploads through the API itself (the local
 * store). Web Crypto only, so the Workers build can verify links too.
 *
 * A link carries its own terms (name, expiry, content type, size cap) and an HMAC-SHA256 over them,
 * so the server needs no state to check one: changing any term breaks the signature.
 */
export interface UploadLinkTerms {
  name: string
  /** Epoch seconds after which the link is refused. */
  expires: number
  /** The content type the upload must be. */
  type: string
  /** Most bytes the upload may have. */
  max: number
}

export type UploadLinkCheck = 'ok' | 'invalid' | 'expired'

const encoder = new TextEncoder()

/** Domain separation: the link secret is derived from the API key without ever equalling it. */
export const uploadLinkSecretFromApiKey = (apiKey: string): string => `upload-link-v1\u0000${apiKey}`

const importKey = (secret: string, usage: 'sign' | 'verify') =>
  crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage])

// Newline-separated: none of the fields can contain a newline (checked in verify), so the
// encoding is unambiguous.
const canonical = (terms: UploadLinkTerms) =>
  encoder.encode(['v1', terms.name, terms.expires, terms.type, terms.max].join('\n'))

const toBase64Url = (bytes: Uint8Array) => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const fromBase64Url = (text: string): Uint8Array<ArrayBuffer> | null => {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null
  let binary: string
  try {
    binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  } catch {
    return null // impossible length for base64
  }
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

export const signUploadLink = async (terms: UploadLinkTerms, secret: string): Promise<string> => {
  const key = await importKey(secret, 'sign')
  return toBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', key, canonical(terms))))
}

/**
 * Checks a link's signature (constant time, via `crypto.subtle.verify`) and then its expiry.
 * `nowMs` is injectable so tests and a shared clock agree.
 */
export const verifyUploadSignature = async (
  terms: UploadLinkTerms,
  sig: string,
  secret: string,
  nowMs: number = Date.now(),
): Promise<UploadLinkCheck> => {
  if ([terms.name, terms.type].some((field) => field.includes('\n'))) return 'invalid'
  if (!Number.isSafeInteger(terms.expires) || !Number.isSafeInteger(terms.max)) return 'invalid'
  const signature = fromBase64Url(sig)
  if (!signature) return 'invalid'
  const key = await importKey(secret, 'verify')
  const valid = await crypto.subtle.verify('HMAC', key, signature, canonical(terms))
  if (!valid) return 'invalid'
  return terms.expires * 1000 > nowMs ? 'ok' : 'expired'
}
