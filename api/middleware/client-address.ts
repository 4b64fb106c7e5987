import { lastForwardedAddress } from '../../shared/security/rate-limit.js'

/**
 * What the address readers look at: the runtime's bindings (`env`: Node passes its socket) and the
 * request's headers. A Hono Context is one; the fast read path (`fast-reads.ts`) builds one without.
 */
export interface RequestSource {
  env: unknown
  req: { header(name: string): string | undefined }
}

/** The socket's peer address, as the runtime knows it (Node passes one built on its socket). */
export type PeerAddressReader = (c: RequestSource) => string | null

/**
 * Without a socket to ask (Cloudflare Workers), the edge's own header: Cloudflare sets
 * CF-Connecting-IP itself, overwriting whatever the client sent.
 */
export const edgePeerAddress: PeerAddressReader = (c) => c.req.header('cf-connecting-ip') ?? null

/**
 * The client's IP address for rate limiting. The peer address from the runtime; X-Forwarded-For
 * only when the operator says a proxy they control sets it (anyone can send the header). Of that
 * header the last entry is used: it is the one the trusted proxy appended, the ones before it come
 * from the client.
 */
export const clientAddress = (
  c: RequestSource,
  trustProxy: boolean,
  peer: PeerAddressReader,
): string | null => {
  if (trustProxy) {
    const last = lastForwardedAddress(c.req.header('x-forwarded-for'))
    if (last) return last
  }
  return peer(c)
}
