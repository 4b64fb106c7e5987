import type { BaileysEventMap, Contact } from '@whiskeysockets/baileys'
import type { ContactRecord } from '../shared/db/types.js'
import { decodeJid, isPnJid } from './jid.js'
import type { WaSocket } from './wa-socket.js'

/**
 * The phone numbers and names of contacts as Baileys reports them: a phone-number JID, or a LID
 * with its phone number beside it. Groups, broadcasts and LIDs without a number are left out (a
 * status can only be addressed to a number here).
 */
export const contactRecords = (contacts: readonly Partial<Contact>[]): ContactRecord[] => {
  const byNumber = new Map<string, ContactRecord>()
  for (const contact of contacts) {
    const pnJid = isPnJid(contact.id) ? contact.id : isPnJid(contact.phoneNumber) ? contact.phoneNumber : null
    const number = decodeJid(pnJid)?.user
    if (!number || !/^\d{6,15}$/.test(number)) continue
    const name = contact.name || contact.notify || contact.verifiedName || null
    const known = byNumber.get(number)
    byNumber.set(number, { number, name: name ?? known?.name ?? null })
  }
  return [...byNumber.values()]
}

/** Listens for the contacts a socket learns (history sync, contact updates); returns the unsubscribe. */
export const attachContactListeners = (sock: WaSocket, sink: (contacts: ContactRecord[]) => void) => {
  const emit = (contacts: readonly Partial<Contact>[]) => {
    const records = contactRecords(contacts)
    if (records.length) sink(records)
  }
  const onHistory = ({ contacts }: BaileysEventMap['messaging-history.set']) => emit(contacts)
  const onUpsert = (contacts: BaileysEventMap['contacts.upsert']) => emit(contacts)
  const onUpdate = (contacts: BaileysEventMap['contacts.update']) => emit(contacts)
  sock.ev.on('messaging-history.set', onHistory)
  sock.ev.on('contacts.upsert', onUpsert)
  sock.ev.on('contacts.update', onUpdate)
  return () => {
    sock.ev.off('messaging-history.set', onHistory)
    sock.ev.off('contacts.upsert', onUpsert)
    sock.ev.off('contacts.update', onUpdate)
  }
}
