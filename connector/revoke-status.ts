import { generateMessageIDV2 } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { CommandInput, CommandReply } from '../shared/commands.js'
import { appError } from '../shared/errors.js'
import { chunkSizes } from '../shared/status-jobs.js'
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
  /** Audiences above this were sent as jobs, in chunks of `chunkSize`; revokes are chunked alike. */
  jobThreshold: number
  chunkSize: number
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
  // A big audience was sent in chunks; its revoke goes the same way, one id for every chunk.
  const chunks =
    targets.length > ctx.jobThreshold
      ? chunkSizes(targets.length, ctx.chunkSize).map((size, i) =>
          targets.slice(i * ctx.chunkSize, i * ctx.chunkSize + size),
        )
      : [targets]
  const messageId = generateMessageIDV2(own.ownJid)
  const self = { ownJid: own.ownJid, ownLid: own.ownLid }
  for (const chunk of chunks) await revokeChunk(ctx, input, chunk, messageId, self)
  ctx.logger.info({ statusId: input.statusId, chunks: chunks.length }, 'status deleted for everyone')
  return { revoked: true }
}

/** One revoke stanza, answered only once the server acked it. */
const revokeChunk = async (
  ctx: RevokeStatusContext,
  input: RevokeStatusInput,
  targets: string[],
  messageId: string,
  own: { ownJid: string; ownLid: string | null },
): Promise<void> => {
  const resolved = targets.length ? await lookupLids(ctx, targets) : []
  const audience = buildStatusAudience({
    targetNumbers: targets,
    ownJid: own.ownJid,
    ownLid: own.ownLid,
    resolved,
  })
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
}
