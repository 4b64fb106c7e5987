/** `bytes` random bytes as lowercase hex (WebCrypto: Node and Workers alike), for generated ids. */
export const randomHex = (bytes: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('')
