import { generateMessageIDV2 } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { Bus } from '../shared/bus/types.js'
import type { CommandInput, CommandReply } from '../shared/commands.js'
import type { Repositories, StatusRecord } from '../shared/db/types.js'
import { AppError, Messages } from '../shared/errors.js'
import type { MediaStore } from '../shared/storage/types.js'
import { phoneJid, STATUS_BROADCAST_JID } from './jid.js'
import { ownIdentity } from './linking.js'
import { type AckOutcome, waitForStatusAck } from './status-ack.js'
import { buildStatusAudience } from './status-audience.js'
import { prepareStatusContent, type UrlMediaFetcher } from './status-content.js'
import { withTimeout } from './timeouts.js'
import type { WaSocket } from './wa-socket.js'

export interface SendStatusContext {
  sessionId: string
  sock: WaSocket
  repos: Repositories
  bus: Bus
  media: MediaStore
  fetchUrl: UrlMediaFetcher
  logger: Logger
  now: () => number
  ackTimeoutMs: number
  retentionMs: number
}

/** A LID lookup asks the server (usync); a slow answer must not eat the whole command budget. */
const LID_LOOKUP_TIMEOUT_MS = 10_000

export type SendStatusInput = CommandInput<'status.send'>
export type SendStatusReply = CommandReply<'status.send'>

/**
 * Posts one status and reports it sent only once WhatsApp has acknowledged it.
 *
 * The row is stored first as `pending` (with the message id chosen up front, so a receipt can never
 * arrive for a status we do not know), then the stanza goes out, then the ack decides: `sent`, or
 * `failed` with the reason, and the caller gets the matching error.
 */
export const sendStatus = async (
  ctx: SendStatusContext,
  input: SendStatusInput,
): Promise<SendStatusReply> => {
  const { sessionId, sock, repos } = ctx
  const own = ownIdentity(sock.authState.creds)
  if (!own.ownJid) throw new AppError('conflict', Messages.notConnected)

  const prepared = await prepareStatusContent(input, { media: ctx.media, fetchUrl: ctx.fetchUrl })
  const targets = [...new Set(input.targetNumbers)]
  const resolved = targets.length ? await lookupLids(ctx, targets) : []
  const audience = buildStatusAudience({
    targetNumbers: targets,
    ownJid: own.ownJid,
    ownLid: own.ownLid,
    resolved,
  })
  if (audience.lidPairs.length) {
    await repos.lidMap
      .upsertMany(sessionId, audience.lidPairs)
      .catch((error) => ctx.logger.warn({ err: error }, 'storing LID pairs failed'))
  }

  const messageId = generateMessageIDV2(own.ownJid)
  const createdAt = ctx.now()
  const row = await repos.statuses.insert({
    sessionId,
    type: input.type,
    content: input.content,
    caption: input.caption ?? '',
    backgroundColor: input.backgroundColor ?? null,
    font: input.font ?? null,
    targetNumbers: targets.join(','),
    contactCount: 0,
    waMessageId: messageId,
    state: 'pending',
    error: null,
    mediaFilename: prepared.mediaFilename,
    createdAt,
    expiresAt: createdAt + ctx.retentionMs,
  })

  const ack = waitForStatusAck(sock, messageId, ctx.ackTimeoutMs)
  try {
    await sock.sendMessage(STATUS_BROADCAST_JID, prepared.message, {
      messageId,
      statusJidList: audience.statusJidList,
      ...(prepared.isText && input.backgroundColor ? { backgroundColor: input.backgroundColor } : {}),
      ...(prepared.isText && input.font !== undefined ? { font: input.font } : {}),
    })
  } catch (error) {
    ack.cancel()
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'unknown error'
    throw await markFailed(
      ctx,
      row,
      new AppError('unavailable', `WhatsApp could not send the status: ${reason}`),
    )
  }

  const outcome = await ack.promise
  if (!outcome.ok) throw await markFailed(ctx, row, ackError(outcome))

  const sent = (await repos.statuses.update(sessionId, row.id, {
    state: 'sent',
    waMessageId: messageId,
    contactCount: audience.contactCount,
    error: null,
  })) ?? { ...row, state: 'sent' as const, contactCount: audience.contactCount }
  await announceSent(ctx, sent, messageId)
  return { statusId: row.id, waMessageId: messageId, contactCount: audience.contactCount, type: input.type }
}

const lookupLids = async (ctx: SendStatusContext, targets: string[]) => {
  try {
    const lookup = ctx.sock.signalRepository.lidMapping.getLIDsForPNs(targets.map(phoneJid))
    return (await withTimeout(lookup, LID_LOOKUP_TIMEOUT_MS)) ?? []
  } catch (error) {
    // Without LIDs the status still goes out, addressed by phone number.
    ctx.logger.warn({ err: error }, 'LID lookup for status recipients failed')
    return []
  }
}

const ackError = (outcome: Exclude<AckOutcome, { ok: true }>): AppError => {
  switch (outcome.reason) {
    case 'rejected':
      return new AppError('unavailable', `WhatsApp rejected the status (error ${outcome.code})`)
    case 'timeout':
      return new AppError('timeout', 'No acknowledgement from WhatsApp in time')
    case 'closed':
      return new AppError('unavailable', 'The WhatsApp connection closed before the status was acknowledged')
  }
}

const markFailed = async (ctx: SendStatusContext, row: StatusRecord, error: AppError): Promise<AppError> => {
  await ctx.repos.statuses
    .update(ctx.sessionId, row.id, { state: 'failed', error: error.message })
    .catch((dbError) => ctx.logger.error({ err: dbError }, 'marking status failed did not persist'))
  ctx.logger.warn({ statusId: row.id, reason: error.message }, 'status send failed')
  return error
}

const announceSent = async (ctx: SendStatusContext, status: StatusRecord, waMessageId: string) => {
  const { sessionId, bus } = ctx
  await bus.publish({
    event: 'status-sent',
    payload: {
      sessionId,
      id: status.id,
      statusId: status.id,
      type: status.type,
      content: status.content,
      caption: status.caption,
      timestamp: new Date(status.createdAt).toISOString(),
      waMessageId,
      contactCount: status.contactCount,
      targetNumbers: status.targetNumbers,
    },
  })
  await bus.publish({
    event: 'statuses-updated',
    payload: { sessionId, message: 'Statuses updated', action: 'sent' },
  })
}
