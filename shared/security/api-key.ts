/**
 * API key comparison that takes the same time whatever the input: both sides are hashed first so
 * the comparison never depends on the secret's length. Web Crypto only, so the Workers build can use it.
 */
const encoder = new TextEncoder()

const digest = async (value: string) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)))

export const apiKeyMatches = async (
  candidate: string | null | undefined,
  expected: string,
): Promise<boolean> => {
  if (typeof candidate !== 'string' || candidate.length === 0) return false
  const [a, b] = await Promise.all([digest(candidate), digest(expected)])
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return diff === 0
}

/** Reads a key from `x-api-key` or `Authorization: Bearer …`. */
export const apiKeyFromHeaders = (get: (name: string) => string | null | undefined): string | null => {
  const direct = get('x-api-key')
  if (direct) return direct.trim()
  const auth = get('authorization')
  const match = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null
  return match?.[1]?.trim() ?? null
}
