import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { Messages } from '../shared/errors.js'

/** A connection refused because its host resolved to an address that is not allowed. */
export class BlockedAddressError extends Error {}

/**
 * A DNS lookup that refuses non-public answers. It runs at connect time for every hop, so a
 * name that resolved to a public address when the API checked it cannot be re-pointed at an
 * internal one before the download (DNS rebinding), and a redirect cannot lead inside either.
 */
export const guardedLookup =
  (isAllowed: (address: string) => boolean): LookupFunction =>
  (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4)
      if (addresses.length === 0 || addresses.some((a) => !isAllowed(a.address))) {
        return callback(new BlockedAddressError(Messages.urlNonPublic), '', 4)
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
      const first = addresses[0]!
      callback(null, first.address, first.family)
    })
  }
