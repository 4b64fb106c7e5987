import { getConnInfo } from '@hono/node-server/conninfo'
import type { PeerAddressReader } from '../middleware/client-address.js'

/** The peer address of the request's socket on `@hono/node-server`. */
export const nodePeerAddress: PeerAddressReader = (c) => {
  try {
    return getConnInfo(c).remote.address ?? null
  } catch {
    return null
  }
}
