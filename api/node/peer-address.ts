import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import type { PeerAddressReader } from '../middleware/client-address.js'

/** The peer address of the request's socket on `@hono/node-server` (it reads `env.incoming` only). */
export const nodePeerAddress: PeerAddressReader = (c) => {
  try {
    return getConnInfo(c as unknown as Context).remote.address ?? null
  } catch {
    return null
  }
}
