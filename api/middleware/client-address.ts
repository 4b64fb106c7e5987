import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import { lastForwardedAddress } from '../../shared/security/rate-limit.js'

/**
 * The client's IP address for rate limiting. The socket's peer address on Node; X-Forwarded-For
 * only when the operator says a proxy they control sets it (anyone can send the header). Of that
 * header the last entry is used: it is the one the trusted proxy appended, the ones before it come
 * from the client.
 */
export const clientAddress = (c: Context, trustProxy: boolean): string | null => {
  if (trustProxy) {
    const last = lastForwardedAddress(c.req.header('x-forwarded-for'))
    if (last) return last
  }
  try {
    return getConnInfo(c).remote.address ?? null
  } catch {
    // Not on @hono/node-server, so no socket to ask. On Cloudflare Workers the edge sets
    // CF-Connecting-IP itself, overwriting whatever the client sent.
    return c.req.header('cf-connecting-ip') ?? null
  }
}
