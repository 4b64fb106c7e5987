/**
 * Which IP addresses a `type: "url"` status may point at. Anything that is not plainly public
 * (private, loopback, link-local, unique-local, CGNAT, cloud metadata, documentation, multicast,
 * reserved) is refused, including IPv4 addresses smuggled inside IPv6 forms.
 */

type Cidr4 = [base: number, bits: number]

const parseIPv4 = (text: string): number | null => {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (!match) return null
  const octets = match.slice(1).map(Number)
  if (octets.some((o) => o > 255)) return null
  return octets.reduce((acc, o) => acc * 256 + o, 0)
}

const cidr4 = (text: string): Cidr4 => {
  const [base, bits] = text.split('/')
  return [parseIPv4(base ?? '') ?? 0, Number(bits)]
}

const BLOCKED_V4: Cidr4[] = [
  '0.0.0.0/8', // "this" network
  '10.0.0.0/8',
  '100.64.0.0/10', // CGNAT (also Alibaba's metadata 100.100.100.200)
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, cloud metadata 169.254.169.254
  '172.16.0.0/12',
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation
  '192.88.99.0/24', // 6to4 relay anycast
  '192.168.0.0/16',
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation
  '203.0.113.0/24', // documentation
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, broadcast
].map(cidr4)

const inCidr4 = (ip: number, [base, bits]: Cidr4) => {
  const size = 2 ** (32 - bits)
  return Math.floor(ip / size) === Math.floor(base / size)
}

const isBlockedV4 = (ip: number) => BLOCKED_V4.some((range) => inCidr4(ip, range))

/** Parses an IPv6 address (brackets and zone allowed) into its eight 16-bit groups. */
const parseIPv6 = (text: string): number[] | null => {
  let value = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (!value.includes(':')) return null
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const tail = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value)
  if (tail?.[1]) {
    const v4 = parseIPv4(tail[1])
    if (v4 === null) return null
    value = `${value.slice(0, -tail[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`
  }
  const halves = value.split('::')
  if (halves.length > 2) return null
  const parse = (part: string | undefined) => (part ? part.split(':') : [])
  const head = parse(halves[0])
  const rest = parse(halves[1])
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null
  const missing = 8 - head.length - rest.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null
  return [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...rest].map((g) =>
    Number.parseInt(g, 16),
  )
}

const v4From = (high: number, low: number) => high * 65536 + low

const isBlockedV6 = (g: number[]): boolean => {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g
  const embedded = v4From(g6, g7)
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    // ::ffff:0:0/96 (IPv4-mapped) reaches the embedded IPv4; ::/96 (unspecified, loopback,
    // deprecated IPv4-compatible) is never a public target.
    if (g5 === 0xffff) return isBlockedV4(embedded)
    if (g5 === 0) return true
  }
  // NAT64 well-known prefix 64:ff9b::/96 translates to the embedded IPv4.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return isBlockedV4(embedded)
  // 6to4 (2002::/16) embeds an IPv4 in groups 1-2.
  if (g0 === 0x2002) return isBlockedV4(v4From(g1, g2))
  // Only global unicast (2000::/3) is public; that excludes ULA fc00::/7, link-local fe80::/10,
  // multicast ff00::/8, site-local, discard 100::/64 and NAT64 local-use 64:ff9b:1::/48.
  if ((g0 & 0xe000) !== 0x2000) return true
  if (g0 === 0x2001 && g1 === 0x0db8) return true // documentation
  if (g0 === 0x2001 && g1 < 0x0200) return true // IETF protocol assignments incl. Teredo
  if ((g0 & 0xfff0) === 0x3ff0) return true // documentation 3fff::/20
  return false
}

export type IpFamily = 4 | 6

/** 4 or 6 when the text is an IP literal, else null. */
export const ipFamily = (text: string): IpFamily | null => {
  if (parseIPv4(text) !== null) return 4
  if (parseIPv6(text) !== null) return 6
  return null
}

/** True when the address is anything but a plain public unicast address (or is not an IP). */
export const isNonPublicAddress = (address: string): boolean => {
  const v4 = parseIPv4(address)
  if (v4 !== null) return isBlockedV4(v4)
  const v6 = parseIPv6(address)
  if (v6 !== null) return isBlockedV6(v6)
  return true
}

/** IPv4 as is; IPv4-mapped IPv6 as its IPv4; other IPv6 by its /64, which one subscriber usually holds. */
export const rateLimitKeyForAddress = (address: string): string => {
  if (parseIPv4(address) !== null) return address
  const v6 = parseIPv6(address)
  if (!v6) return address
  if (v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff) {
    const v4 = v4From(v6[6] ?? 0, v6[7] ?? 0)
    return [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join('.')
  }
  return `${v6
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}
