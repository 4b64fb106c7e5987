import type { LIDMapping } from '@whiskeysockets/baileys'
import { jidUser, normalizeUserJid, phoneJid } from './jid.js'

export interface StatusAudience {
  /** What goes to Baileys as `statusJidList`. */
  statusJidList: string[]
  /** Target recipients addressed (the account itself not counted). */
  contactCount: number
  /** LID ↔ number pairs learned for the targets, to resolve viewers later. */
  lidPairs: { lid: string; pn: string }[]
}

export interface AudienceInput {
  targetNumbers: string[]
  /** The account's own phone JID and LID (normalised, no device). */
  ownJid: string
  ownLid: string | null
  /** LID lookups for the target phone JIDs (from `lidMapping.getLIDsForPNs`). */
  resolved: LIDMapping[]
}

/**
 * Builds the recipient list of a status.
 *
 * - The account's own JID is always in it: Baileys does not add it and without it the owner never
 *   sees their own status.
 * - WhatsApp Web addresses status recipients by LID, and the server rejects stanzas whose
 *   participants mix phone-number and LID addressing (LID-migrated accounts get error 479 when a
 *   status goes to phone JIDs). So when the account has a LID and the server returned LIDs for the
 *   targets, every target with a LID goes by its LID, and so do we.
 * - A target the server gave no LID for keeps its phone JID: on the real service that means the
 *   number has no WhatsApp devices, so it adds nothing to the stanza.
 * - Otherwise (no targets, or a server that returns no LID) the list is phone JIDs only, the form
 *   Baileys resolves our own devices in reliably.
 */
export const buildStatusAudience = ({
  targetNumbers,
  ownJid,
  ownLid,
  resolved,
}: AudienceInput): StatusAudience => {
  const lidByNumber = new Map<string, string>()
  for (const pair of resolved) {
    const number = jidUser(pair.pn)
    const lid = normalizeUserJid(pair.lid)
    if (number && lid) lidByNumber.set(number, lid)
  }
  const lidPairs = [...lidByNumber].map(([pn, lid]) => ({ lid, pn }))
  const ownPn = normalizeUserJid(ownJid) ?? ownJid
  const ownNumber = jidUser(ownPn)
  const others = [...new Set(targetNumbers)].filter((number) => number !== ownNumber)

  const addressByLid = !!ownLid && others.some((number) => lidByNumber.has(number))
  const self = addressByLid && ownLid ? ownLid : ownPn
  const targets = others.map(
    (number) => (addressByLid ? lidByNumber.get(number) : undefined) ?? phoneJid(number),
  )
  return { statusJidList: [self, ...targets], contactCount: others.length, lidPairs }
}
