/** `bytes` random bytes as lowercase hex (WebCrypto: Node and Workers alike), for generated ids. */
export const randomHex = (bytes: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('')

/** `bytes` random bytes as base64url without padding, for secrets handed out once. */
export const randomBase64Url = (bytes: number): string =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
