import { generateMessageIDV2 } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { CommandInput, CommandReply } from '../shared/commands.js'
import { appError } from '../shared/errors.js'
import { STATUS_BROADCAST_JID } from './jid.js'
import { ownIdentity } from './linking.js'
import { lookupLids, settleWithin } from './send-status.js'
import type { StatusAckTracker } from './status-ack.js'
import { buildStatusAudience } from './status-audience.js'
import type { WaSocket } from './wa-socket.js'

export interface RevokeStatusContext {
  sock: WaSocket
  acks: StatusAckTracker
  logger: Logger
  /** From the stanza written to the answer; see STATUS_ACK_TIMEOUT_MS. */
  ackTimeoutMs: number
  prepareTimeoutMs: number
}

export type RevokeStatusInput = CommandInput<'status.revoke'>

/**
 * Deletes a posted status for everyone, as WhatsApp's own "delete for everyone" does: a protocol
 * revoke naming the status's message id, sent to the same audience (the phones that got it
 * remove it). It answers only once the server acknowledged the revoke; a refused or unanswered
 * revoke is an error and the caller keeps its local data.
 */
export const revokeStatus = async (
  ctx: RevokeStatusContext,
  input: RevokeStatusInput,
): Promise<CommandReply<'status.revoke'>> => {
  const own = ownIdentity(ctx.sock.authState.creds)
  if (!own.ownJid) throw appError('notConnected')
  const targets = [...new Set(input.targetNumbers)]
  const resolved = targets.length ? await lookupLids(ctx, targets) : []
  const audience = buildStatusAudience({
    targetNumbers: targets,
    ownJid: own.ownJid,
    ownLid: own.ownLid,
    resolved,
  })
  const messageId = generateMessageIDV2(own.ownJid)
  const watch = ctx.acks.watch(messageId)
  const sending = ctx.sock.sendMessage(
    STATUS_BROADCAST_JID,
    { delete: { remoteJid: STATUS_BROADCAST_JID, fromMe: true, id: input.waMessageId } },
    { messageId, statusJidList: audience.statusJidList },
  )
  const written = await settleWithin(sending, ctx.prepareTimeoutMs)
  if (written.state !== 'fulfilled') {
    watch.stop()
    if (written.state === 'pending') throw appError('sendPrepareTimeout')
    const reason = written.reason instanceof Error ? written.reason.message.slice(0, 200) : 'unknown error'
    throw appError('couldNotRevoke', reason)
  }
  const ack = await settleWithin(watch.verdict, ctx.ackTimeoutMs)
  if (ack.state !== 'fulfilled') {
    watch.stop()
    throw appError('sendAckTimeout')
  }
  const verdict = ack.value
  if (!verdict.ok) {
    throw verdict.reason === 'rejected'
      ? appError('revokeRejected', verdict.code)
      : appError('sendConnectionClosed')
  }
  ctx.logger.info({ statusId: input.statusId }, 'status deleted for everyone')
  return { revoked: true }
}
