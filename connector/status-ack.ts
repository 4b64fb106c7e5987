import type { BaileysEventMap, BinaryNode, WAMessage } from '@whiskeysockets/baileys'
import { STATUS_BROADCAST_JID } from './jid.js'
import type { WaSocket } from './wa-socket.js'

/** proto.WebMessageInfo.Status.ERROR: how Baileys marks a message the server refused. */
const MESSAGE_STATUS_ERROR = 0

export type AckOutcome =
  | { ok: true }
  | { ok: false; reason: 'rejected'; code: string }
  | { ok: false; reason: 'timeout' }
  | { ok: false; reason: 'closed' }

export interface PendingAck {
  promise: Promise<AckOutcome>
  /** Stops listening (when the send itself failed). */
  cancel(): void
}

/**
 * Waits for the server's verdict on one sent status. `sendMessage` resolves once the stanza is
 * written, before the server has accepted it, so "sent" is only true after this resolves ok.
 *
 * Signals, first one wins:
 * - the raw `<ack class="message" id=…>` (an `error` attribute means refused) — the reliable one;
 * - `messages.update` / `messages.upsert` marking the message ERROR with a stub code (479, 463, 429),
 *   which is how Baileys reports a refused ack, folded into the upsert when events are buffered;
 * - the socket closing first, or `timeoutMs` passing: no verdict, reported as a failure.
 *
 * Must be called before `sendMessage` so an ack racing the send is not missed.
 */
export const waitForStatusAck = (sock: WaSocket, messageId: string, timeoutMs: number): PendingAck => {
  let settle: (outcome: AckOutcome) => void = () => {}
  let timer: NodeJS.Timeout | undefined

  const onAck = (node: BinaryNode) => {
    if (node.attrs.id !== messageId) return
    const error = node.attrs.error
    settle(error ? { ok: false, reason: 'rejected', code: String(error) } : { ok: true })
  }
  const onUpdate = (updates: BaileysEventMap['messages.update']) => {
    for (const { key, update } of updates) {
      if (key.id === messageId && update.status === MESSAGE_STATUS_ERROR) {
        settle({ ok: false, reason: 'rejected', code: stubCode(update.messageStubParameters) })
      }
    }
  }
  const onUpsert = ({ messages }: BaileysEventMap['messages.upsert']) => {
    for (const message of messages) {
      if (isRefusedStatus(message, messageId)) {
        settle({ ok: false, reason: 'rejected', code: stubCode(message.messageStubParameters) })
      }
    }
  }
  const onConnection = (update: BaileysEventMap['connection.update']) => {
    if (update.connection === 'close') settle({ ok: false, reason: 'closed' })
  }

  const detach = () => {
    clearTimeout(timer)
    sock.ws.off('CB:ack,class:message', onAck)
    sock.ev.off('messages.update', onUpdate)
    sock.ev.off('messages.upsert', onUpsert)
    sock.ev.off('connection.update', onConnection)
  }

  const promise = new Promise<AckOutcome>((resolve) => {
    settle = (outcome) => {
      settle = () => {}
      detach()
      resolve(outcome)
    }
  })
  sock.ws.on('CB:ack,class:message', onAck)
  sock.ev.on('messages.update', onUpdate)
  sock.ev.on('messages.upsert', onUpsert)
  sock.ev.on('connection.update', onConnection)
  timer = setTimeout(() => settle({ ok: false, reason: 'timeout' }), timeoutMs)

  return { promise, cancel: () => settle({ ok: false, reason: 'closed' }) }
}

const isRefusedStatus = (message: WAMessage, messageId: string): boolean =>
  message.key.id === messageId &&
  message.key.remoteJid === STATUS_BROADCAST_JID &&
  message.status === MESSAGE_STATUS_ERROR &&
  !!message.messageStubParameters?.length

const stubCode = (parameters: readonly (string | null | undefined)[] | null | undefined): string =>
  parameters?.find((p): p is string => typeof p === 'string' && p.length > 0) ?? 'unknown'
