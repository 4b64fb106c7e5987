import ipaddr from 'ipaddr.js'

/**
 * Which IP addresses a `type: "url"` status (or anything the product fetches for a user) may point
 * at. Anything that is not plainly public — private, loopback, link-local, unique-local, CGNAT,
 * cloud metadata, documentation, benchmarking, multicast, reserved — is refused, including IPv4
 * addresses carried inside IPv6 forms (IPv4-mapped, NAT64, 6to4). Parsing and the standard range
 * table come from ipaddr.js; the few rules it does not know are spelled out below.
 */

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** Dotted-quad IPv4 (no octal, hex or short forms) or IPv6 (brackets and a zone allowed). */
const parse = (text: string): Address | null => {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text)
  const v6 = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (!v6.includes(':') || !ipaddr.IPv6.isValid(v6)) return null
  try {
    return ipaddr.IPv6.parse(v6)
  } catch {
    return null
  }
}

/** ipaddr.js names 'unicast' only what no special range claims. */
const isBlockedV4 = (ip: ipaddr.IPv4): boolean => ip.range() !== 'unicast'

const embeddedV4 = (bytes: number[], from: number) =>
  new ipaddr.IPv4([bytes[from] ?? 0, bytes[from + 1] ?? 0, bytes[from + 2] ?? 0, bytes[from + 3] ?? 0])

const isBlockedV6 = (ip: ipaddr.IPv6): boolean => {
  const bytes = ip.toByteArray()
  const range = ip.range()
  // Forms that reach an IPv4 address are judged by that address.
  if (range === 'ipv4Mapped') return isBlockedV4(ip.toIPv4Address())
  if (range === 'rfc6052') return isBlockedV4(embeddedV4(bytes, 12)) // NAT64 64:ff9b::/96
  if (range === '6to4') return isBlockedV4(embeddedV4(bytes, 2)) // 2002::/16
  if (range !== 'unicast') return true
  const [g0 = 0, g1 = 0] = ip.parts
  // Only global unicast (2000::/3) is public, and not all of it: IETF protocol assignments
  // 2001::/23 (Teredo and friends) and the documentation prefix 3fff::/20 are not.
  if ((g0 & 0xe000) !== 0x2000) return true
  if (g0 === 0x2001 && g1 < 0x0200) return true
  if ((g0 & 0xfff0) === 0x3ff0) return true
  return false
}

export type IpFamily = 4 | 6

/** 4 or 6 when the text is an IP literal, else null. */
export const ipFamily = (text: string): IpFamily | null => {
  const ip = parse(text)
  return ip ? (ip.kind() === 'ipv4' ? 4 : 6) : null
}

/** True when the address is anything but a plain public unicast address (or is not an IP). */
export const isNonPublicAddress = (address: string): boolean => {
  const ip = parse(address)
  if (!ip) return true
  return ip.kind() === 'ipv4' ? isBlockedV4(ip as ipaddr.IPv4) : isBlockedV6(ip as ipaddr.IPv6)
}

/** IPv4 as is; IPv4-mapped IPv6 as its IPv4; other IPv6 by its /64, which one subscriber usually holds. */
export const rateLimitKeyForAddress = (address: string): string => {
  const ip = parse(address)
  if (!ip) return address
  if (ip.kind() === 'ipv4') return ip.toString()
  const v6 = ip as ipaddr.IPv6
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString()
  return `${v6.parts
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}
