import { lookup } from 'node:dns/promises'
import type { HostResolver } from '../types.js'

/** The Node entry's resolver for the URL-status SSRF check: every address the system resolver returns. */
export const nodeHostResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address)
