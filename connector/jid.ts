/**
 * Small JID helpers. A JID is `user[_agent][:device]@server`; WhatsApp addresses people either by
 * phone number (`…@s.whatsapp.net`) or by LID (`…@lid`), and receipts may carry a device suffix.
 */
export const STATUS_BROADCAST_JID = 'status@broadcast'
const PN_SERVER = 's.whatsapp.net'

export interface DecodedJid {
  user: string
  server: string
  device: number | undefined
}

// Called for every receipt of a burst (several times each): the parts are found by index rather
// than by splitting, which allocates arrays per call.
export const decodeJid = (jid: string | null | undefined): DecodedJid | null => {
  if (!jid) return null
  const at = jid.indexOf('@')
  if (at < 0) return null
  const server = jid.slice(at + 1)
  const colon = jid.indexOf(':')
  const localEnd = colon >= 0 && colon < at ? colon : at
  const underscore = jid.indexOf('_')
  const userEnd = underscore >= 0 && underscore < localEnd ? underscore : localEnd
  if (userEnd === 0) return null
  let device: number | undefined
  if (localEnd < at) {
    // The segment after the first colon, up to the next one, as `split(':')[1]` reads it.
    const next = jid.indexOf(':', localEnd + 1)
    device = Number(jid.slice(localEnd + 1, next >= 0 && next < at ? next : at))
  }
  return { user: jid.slice(0, userEnd), server, device }
}

export const isLidJid = (jid: string | null | undefined): boolean => {
  const server = decodeJid(jid)?.server
  return server === 'lid' || server === 'hosted.lid'
}

export const isPnJid = (jid: string | null | undefined): boolean => {
  const server = decodeJid(jid)?.server
  return server === PN_SERVER || server === 'c.us' || server === 'hosted'
}

/** `user@server` without agent or device; `c.us` becomes `s.whatsapp.net`. Null when not a JID. */
export const normalizeUserJid = (jid: string | null | undefined): string | null => {
  // Receipts name their viewers this way already: no new string for them.
  if (jid && isPlainUserJid(jid)) return jid
  const decoded = decodeJid(jid)
  if (!decoded) return null
  const server = decoded.server === 'c.us' || decoded.server === 'hosted' ? PN_SERVER : decoded.server
  const lidServer = server === 'hosted.lid' ? 'lid' : server
  return `${decoded.user}@${lidServer}`
}

const PN_SUFFIX = `@${PN_SERVER}`
const LID_SUFFIX = '@lid'

/** `user@s.whatsapp.net` or `user@lid` with no agent or device: its own normal form. */
const isPlainUserJid = (jid: string): boolean => {
  const at = jid.indexOf('@')
  if (at <= 0 || jid.indexOf(':') >= 0 || jid.indexOf('_') >= 0) return false
  return (
    (at === jid.length - PN_SUFFIX.length && jid.endsWith(PN_SUFFIX)) ||
    (at === jid.length - LID_SUFFIX.length && jid.endsWith(LID_SUFFIX))
  )
}

/** The user part without device or domain: the digits of a phone JID, the number of a LID. */
export const jidUser = (jid: string | null | undefined): string | null => decodeJid(jid)?.user ?? null

export const phoneJid = (digits: string): string => `${digits}@${PN_SERVER}`

export const sameUser = (a: string | null | undefined, b: string | null | undefined): boolean => {
  const left = decodeJid(a)
  const right = decodeJid(b)
  return !!left && !!right && left.user === right.user && isLidJid(a) === isLidJid(b)
}
