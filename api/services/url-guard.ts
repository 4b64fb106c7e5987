import { AppError, appError, Messages } from '../../shared/errors.js'
import { ipFamily, isNonPublicAddress } from '../../shared/net/ip-ranges.js'
import type { HostResolver } from '../types.js'

const RESOLVE_TIMEOUT_MS = 5_000

/** Names that always mean "this machine or its private network", whatever DNS says. */
const isLocalName = (host: string) =>
  host === 'localhost' ||
  host === 'metadata' ||
  /\.(localhost|local|internal|home\.arpa)$/.test(host) ||
  host === 'metadata.google.internal'

const resolveWithTimeout = async (resolve: HostResolver, host: string): Promise<string[]> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('DNS lookup timed out')), RESOLVE_TIMEOUT_MS)
  })
  try {
    return await Promise.race([resolve(host), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * SSRF guard for media URLs: only http(s), and neither the literal host nor any address it
 * resolves to may be non-public. The connector fetches the URL later, so a DNS answer that changes
 * in between (rebinding) is the connector's to re-check; this refuses the obvious cases up front.
 */
type ParsedMediaUrl = { ok: true; url: URL; host: string } | { ok: false; message: string }

/**
 * The checks that need no network: parseable, http(s), no credentials, a host. The request schema
 * runs them so a bad URL is a 400 whatever state the session is in.
 */
export const parseMediaUrl = (raw: string): ParsedMediaUrl => {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return { ok: false, message: Messages.urlInvalid }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: Messages.urlScheme }
  if (url.username || url.password) return { ok: false, message: Messages.urlCredentials }
  // WHATWG URL has already normalised odd IPv4 spellings (0x7f.1, 2130706433) to dotted form.
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase()
  if (!host) return { ok: false, message: Messages.urlInvalid }
  return { ok: true, url, host }
}

export const assertPublicMediaUrl = async (
  raw: string,
  resolveHost: HostResolver | undefined,
): Promise<URL> => {
  const parsed = parseMediaUrl(raw)
  if (!parsed.ok) throw new AppError('bad_request', parsed.message)
  const { url, host } = parsed
  if (ipFamily(host)) {
    if (isNonPublicAddress(host)) throw appError('urlNonPublic')
    return url
  }
  if (isLocalName(host)) throw appError('urlNonPublic')
  if (!resolveHost) return url
  let addresses: string[]
  try {
    addresses = await resolveWithTimeout(resolveHost, host)
  } catch {
    throw appError('urlUnresolvable')
  }
  if (addresses.length === 0) throw appError('urlUnresolvable')
  if (addresses.some(isNonPublicAddress)) throw appError('urlNonPublic')
  return url
}
