import type { proto } from '@whiskeysockets/baileys'
import { appError, Messages } from '../../shared/errors.js'
import { STATUS_BROADCAST_JID } from '../jid.js'
import { settleWithin } from '../send-status.js'
import type { StatusAckTracker } from '../status-ack.js'
import type { WaSocket } from '../wa-socket.js'

/** How one chunk went: acked, or why not (`code`: the server's error, e.g. 429). */
export type ChunkVerdict =
  | { ok: true; ackMs: number }
  | { ok: false; error: string; code?: string; closed?: boolean }

export interface ChunkConnection {
  sock: WaSocket
  acks: StatusAckTracker
}

/**
 * Writes one chunk's stanza and waits for its ack, each within its bound. The chunks of a job go
 * one after the other: they share the message id, so the ack of the stanza in flight is the only
 * one the id can mean.
 */
export const relayChunk = async (
  { sock, acks }: ChunkConnection,
  message: proto.IMessage,
  messageId: string,
  statusJidList: string[],
  bounds: { prepareTimeoutMs: number; ackTimeoutMs: number },
): Promise<ChunkVerdict> => {
  // Watching before the stanza goes out: an ack may beat `relayMessage` resolving.
  const watch = acks.watch(messageId)
  const relaying = sock.relayMessage(STATUS_BROADCAST_JID, message, { messageId, statusJidList })
  const written = await settleWithin(relaying, bounds.prepareTimeoutMs)
  if (written.state === 'pending') {
    watch.stop()
    relaying.catch(() => {})
    return { ok: false, error: Messages.sendPrepareTimeout }
  }
  const writtenAt = performance.now()
  // Rejected after the stanza went out (Baileys commits its keys last): an ack already there counts.
  const ack = await settleWithin(watch.verdict, written.state === 'rejected' ? 0 : bounds.ackTimeoutMs)
  if (ack.state === 'fulfilled' && ack.value.ok) return { ok: true, ackMs: performance.now() - writtenAt }
  watch.stop()
  if (written.state === 'rejected') {
    const reason = written.reason instanceof Error ? written.reason.message.slice(0, 200) : 'unknown error'
    return { ok: false, error: appError('couldNotSend', reason).message }
  }
  if (ack.state !== 'fulfilled') return { ok: false, error: Messages.sendAckTimeout }
  const verdict = ack.value
  if (verdict.ok) return { ok: true, ackMs: performance.now() - writtenAt }
  return verdict.reason === 'rejected'
    ? { ok: false, error: appError('statusRejected', verdict.code).message, code: verdict.code }
    : { ok: false, error: Messages.sendConnectionClosed, closed: true }
}
