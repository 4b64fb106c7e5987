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

export const decodeJid = (jid: string | null | undefined): DecodedJid | null => {
  if (!jid) return null
  const at = jid.indexOf('@')
  if (at < 0) return null
  const server = jid.slice(at + 1)
  const [userAgent = '', device] = jid.slice(0, at).split(':')
  const user = userAgent.split('_')[0] ?? ''
  if (!user) return null
  return { user, server, device: device === undefined ? undefined : Number(device) }
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
  const decoded = decodeJid(jid)
  if (!decoded) return null
  const server = decoded.server === 'c.us' || decoded.server === 'hosted' ? PN_SERVER : decoded.server
  const lidServer = server === 'hosted.lid' ? 'lid' : server
  return `${decoded.user}@${lidServer}`
}

/** The user part without device or domain: the digits of a phone JID, the number of a LID. */
export const jidUser = (jid: string | null | undefined): string | null => decodeJid(jid)?.user ?? null

export const phoneJid = (digits: string): string => `${digits}@${PN_SERVER}`

export const sameUser = (a: string | null | undefined, b: string | null | undefined): boolean => {
  const left = decodeJid(a)
  const right = decodeJid(b)
  return !!left && !!right && left.user === right.user && isLidJid(a) === isLidJid(b)
}
