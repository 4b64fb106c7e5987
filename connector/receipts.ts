import type { BaileysEventMap, BinaryNode, proto, WAMessage, WAMessageKey } from '@whiskeysockets/baileys'
import { isLidJid, jidUser, normalizeUserJid, STATUS_BROADCAST_JID } from './jid.js'
import type { WaSocket } from './wa-socket.js'

/** One "this person viewed that status" fact, as read from Baileys, before resolution. */
export interface RawView {
  waMessageId: string
  /** The viewer as WhatsApp addressed them: a phone JID or a LID, normalised (no device). */
  viewerJid: string
  /** Epoch ms. */
  viewedAt: number
}

export interface ReceiptSink {
  views(views: RawView[]): void
  /** A LID → phone number pair read from a receipt's `participant_pn` attribute. */
  participantPn(lid: string, pnDigits: string): void
}

type Timestamp = number | { toNumber(): number } | null | undefined

const toMillis = (value: Timestamp): number | null => {
  if (value === null || value === undefined) return null
  const seconds = typeof value === 'number' ? value : value.toNumber()
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null
}

/** A read or played receipt becomes a view; delivery-only receipts carry neither and are skipped. */
const viewFromUserReceipt = (waMessageId: string, receipt: proto.IUserReceipt): RawView | null => {
  const viewedAt = toMillis(receipt.readTimestamp) ?? toMillis(receipt.playedTimestamp)
  const viewerJid = normalizeUserJid(receipt.userJid)
  if (viewedAt === null || !viewerJid) return null
  return { waMessageId, viewerJid, viewedAt }
}

const isOwnStatusKey = (key: WAMessageKey): key is WAMessageKey & { id: string } =>
  key.remoteJid === STATUS_BROADCAST_JID && !!key.id && key.fromMe !== false

/**
 * `message-receipt.update`: the normal path. `receipt.userJid` names the viewer; `key.participant`
 * can be wrong when the event buffer merged several receipts, so it is not used.
 */
export const viewsFromReceiptUpdates = (updates: BaileysEventMap['message-receipt.update']): RawView[] => {
  const views: RawView[] = []
  for (const { key, receipt } of updates) {
    if (!isOwnStatusKey(key)) continue
    const view = viewFromUserReceipt(key.id, receipt)
    if (view) views.push(view)
  }
  return views
}

/** When our status's own upsert is still buffered, Baileys folds receipts into its `userReceipt`. */
export const viewsFromMessages = (messages: WAMessage[]): RawView[] => {
  const views: RawView[] = []
  for (const message of messages) {
    if (!isOwnStatusKey(message.key) || !message.userReceipt?.length) continue
    for (const receipt of message.userReceipt) {
      const view = viewFromUserReceipt(message.key.id, receipt)
      if (view) views.push(view)
    }
  }
  return views
}

export const viewsFromMessageUpdates = (updates: BaileysEventMap['messages.update']): RawView[] => {
  const views: RawView[] = []
  for (const { key, update } of updates) {
    if (!isOwnStatusKey(key) || !update.userReceipt?.length) continue
    for (const receipt of update.userReceipt) {
      const view = viewFromUserReceipt(key.id, receipt)
      if (view) views.push(view)
    }
  }
  return views
}

/**
 * Baileys drops a receipt's `participant_pn` attribute, the one place the server tells us the phone
 * number behind a LID viewer. The raw node is read for it, and only for it.
 */
export const participantPnFromNode = (node: BinaryNode): { lid: string; pn: string } | null => {
  const { from, participant, participant_pn: participantPn } = node.attrs
  if (from !== STATUS_BROADCAST_JID || !participant || !participantPn || !isLidJid(participant)) return null
  const lid = normalizeUserJid(participant)
  const pn = jidUser(participantPn)
  return lid && pn && /^\d+$/.test(pn) ? { lid, pn } : null
}

/**
 * Subscribes to every place a status view can show up on one socket. The raw `CB:receipt` listener
 * runs when the stanza arrives, before Baileys emits the matching event, so the LID → number pair
 * is known by the time the view is resolved. Returns the function that unsubscribes.
 */
export const attachReceiptListeners = (sock: WaSocket, sink: ReceiptSink): (() => void) => {
  const emit = (views: RawView[]) => {
    if (views.length) sink.views(views)
  }
  const onReceipt = (updates: BaileysEventMap['message-receipt.update']) =>
    emit(viewsFromReceiptUpdates(updates))
  const onUpsert = ({ messages }: BaileysEventMap['messages.upsert']) => emit(viewsFromMessages(messages))
  const onUpdate = (updates: BaileysEventMap['messages.update']) => emit(viewsFromMessageUpdates(updates))
  const onRawReceipt = (node: BinaryNode) => {
    const pair = participantPnFromNode(node)
    if (pair) sink.participantPn(pair.lid, pair.pn)
  }
  sock.ev.on('message-receipt.update', onReceipt)
  sock.ev.on('messages.upsert', onUpsert)
  sock.ev.on('messages.update', onUpdate)
  sock.ws.on('CB:receipt', onRawReceipt)
  return () => {
    sock.ev.off('message-receipt.update', onReceipt)
    sock.ev.off('messages.upsert', onUpsert)
    sock.ev.off('messages.update', onUpdate)
    sock.ws.off('CB:receipt', onRawReceipt)
  }
}
