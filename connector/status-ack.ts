import type { BaileysEventMap, BinaryNode, WAMessage } from '@whiskeysockets/baileys'
import { STATUS_BROADCAST_JID } from './jid.js'
import type { WaSocket } from './wa-socket.js'

/** proto.WebMessageInfo.Status.ERROR: how Baileys marks a message the server refused. */
const MESSAGE_STATUS_ERROR = 0

/** The server's word on one sent status, or the connection ending before it spoke. */
export type AckVerdict =
  | { ok: true }
  | { ok: false; reason: 'rejected'; code: string }
  | { ok: false; reason: 'closed' }

export interface AckWatch {
  /** Settles once with the verdict; never rejects. */
  readonly verdict: Promise<AckVerdict>
  /** Stops watching (the send failed, or nobody waits any longer); the verdict settles `closed`. */
  stop(): void
}

/**
 * The acks of one socket. Sends register the message id they are about to send (before
 * `sendMessage`, so an ack racing the send is not missed) and get its verdict; the tracker keeps
 * one set of listeners for all of them, so fifty sends in flight add no listener of their own.
 *
 * Signals, first one wins:
 * - the raw `<ack class="message" id=…>` (an `error` attribute means refused) — the reliable one;
 * - `messages.update` / `messages.upsert` marking the message ERROR with a stub code (479, 463,
 *   429), which is how Baileys reports a refused ack, folded into the upsert when events are
 *   buffered;
 * - the socket closing, or `release()`: every pending send gets `closed`.
 *
 * Timeouts are the caller's: a send answers after its ack timeout but may keep watching for a
 * late ack.
 */
export class StatusAckTracker {
  private readonly pending = new Map<string, (verdict: AckVerdict) => void>()
  private released = false
  private readonly detach: () => void

  constructor(sock: WaSocket) {
    const onAck = (node: BinaryNode) => {
      const id = node.attrs.id
      if (!id) return
      const error = node.attrs.error
      this.settle(id, error ? { ok: false, reason: 'rejected', code: String(error) } : { ok: true })
    }
    const onUpdate = (updates: BaileysEventMap['messages.update']) => {
      if (!this.pending.size) return
      for (const { key, update } of updates) {
        if (key.id && update.status === MESSAGE_STATUS_ERROR) {
          this.settle(key.id, { ok: false, reason: 'rejected', code: stubCode(update.messageStubParameters) })
        }
      }
    }
    const onUpsert = ({ messages }: BaileysEventMap['messages.upsert']) => {
      if (!this.pending.size) return
      for (const message of messages) {
        if (message.key.id && isRefusedStatus(message)) {
          this.settle(message.key.id, {
            ok: false,
            reason: 'rejected',
            code: stubCode(message.messageStubParameters),
          })
        }
      }
    }
    const onConnection = (update: BaileysEventMap['connection.update']) => {
      if (update.connection === 'close') this.release()
    }
    sock.ws.on('CB:ack,class:message', onAck)
    sock.ev.on('messages.update', onUpdate)
    sock.ev.on('messages.upsert', onUpsert)
    sock.ev.on('connection.update', onConnection)
    this.detach = () => {
      sock.ws.off('CB:ack,class:message', onAck)
      sock.ev.off('messages.update', onUpdate)
      sock.ev.off('messages.upsert', onUpsert)
      sock.ev.off('connection.update', onConnection)
    }
  }

  /** Sends waiting for their verdict. */
  get size(): number {
    return this.pending.size
  }

  /** Starts waiting for the verdict on `messageId`; call it before the stanza goes out. */
  watch(messageId: string): AckWatch {
    let resolve: (verdict: AckVerdict) => void = () => {}
    const verdict = new Promise<AckVerdict>((done) => {
      resolve = done
    })
    if (this.released || this.pending.has(messageId)) {
      // A closed socket acks nothing; a second watch of one id would steal the first one's verdict.
      resolve({ ok: false, reason: 'closed' })
    } else {
      this.pending.set(messageId, resolve)
    }
    return {
      verdict,
      stop: () => {
        if (this.pending.get(messageId) === resolve) this.settle(messageId, { ok: false, reason: 'closed' })
      },
    }
  }

  /** Detaches the listeners; every send still waiting gets `closed`. Called with the connection's end. */
  release(): void {
    if (this.released) return
    this.released = true
    this.detach()
    const waiting = [...this.pending.values()]
    this.pending.clear()
    for (const resolve of waiting) resolve({ ok: false, reason: 'closed' })
  }

  private settle(messageId: string, verdict: AckVerdict): void {
    const resolve = this.pending.get(messageId)
    if (!resolve) return
    this.pending.delete(messageId)
    resolve(verdict)
  }
}

const isRefusedStatus = (message: WAMessage): boolean =>
  message.key.remoteJid === STATUS_BROADCAST_JID &&
  message.status === MESSAGE_STATUS_ERROR &&
  !!message.messageStubParameters?.length

const stubCode = (parameters: readonly (string | null | undefined)[] | null | undefined): string =>
  parameters?.find((p): p is string => typeof p === 'string' && p.length > 0) ?? 'unknown'
