import { generateMessageIDV2 } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { EventPublisher } from '../shared/bus/types.js'
import type { CommandInput, CommandReply } from '../shared/commands.js'
import type { Repositories, StatusRecord } from '../shared/db/types.js'
import { type AppError, appError, Messages } from '../shared/errors.js'
import type { ProductMetrics } from '../shared/metrics.js'
import type { MediaStore } from '../shared/storage/types.js'
import { phoneJid, STATUS_BROADCAST_JID } from './jid.js'
import { ownIdentity } from './linking.js'
import type { MediaInUse } from './retention.js'
import type { AckVerdict, AckWatch, StatusAckTracker } from './status-ack.js'
import { buildStatusAudience } from './status-audience.js'
import { type PreparedStatusContent, prepareStatusContent, type UrlMediaFetcher } from './status-content.js'
import { withTimeout } from './timeouts.js'
import type { WaSocket } from './wa-socket.js'

export interface SendStatusContext {
  sessionId: string
  sock: WaSocket
  /** The ack tracker of the connection `sock` belongs to. */
  acks: StatusAckTracker
  repos: Repositories
  events: EventPublisher
  media: MediaStore
  /** Holds an upload while no status row refers to it yet, so the orphan sweep cannot take it. */
  mediaInUse?: MediaInUse
  /** Sends by outcome, and the time from the stanza written to its ack. */
  metrics?: ProductMetrics
  fetchUrl: UrlMediaFetcher
  logger: Logger
  now: () => number
  /** From the stanza written to the answer; see STATUS_ACK_TIMEOUT_MS. */
  ackTimeoutMs: number
  /** From `sendMessage` called to the stanza written; see STATUS_PREPARE_TIMEOUT_MS. */
  prepareTimeoutMs: number
  /** From `sendMessage` called to giving up on a late ack; see STATUS_ACK_FINAL_TIMEOUT_MS. */
  finalTimeoutMs: number
  retentionMs: number
  /**
   * Takes over a send that answered 504 but may still get its verdict, so the session can wait for
   * it when it stops (its socket closing settles it at once).
   */
  background: (work: Promise<void>) => void
}

/** A LID lookup asks the server (usync); a slow answer must not eat the whole command budget. */
const LID_LOOKUP_TIMEOUT_MS = 10_000

export type SendStatusInput = CommandInput<'status.send'>
export type SendStatusReply = CommandReply<'status.send'>

/** Stored beside `pending` while a late verdict can still come. */
const STILL_WAITING = '; a late acknowledgement can still mark it sent'

const CLOSED = { ok: false, reason: 'closed' } as const satisfies AckVerdict

/**
 * Posts one status and reports it sent only once WhatsApp has acknowledged it.
 *
 * The row is stored first as `pending` (with the message id chosen up front, so a receipt can never
 * arrive for a status we do not know), then the stanza goes out, then the ack decides: `sent`, or
 * `failed` with the reason, and the caller gets the matching error.
 *
 * Two clocks: preparing the stanza (Baileys' device query, key fetch, encryption, media upload —
 * tens of seconds for a thousand contacts) is bounded by `prepareTimeoutMs`; the ack is timed
 * from the moment `sendMessage` resolved, which is when the stanza was written. When either runs
 * out the caller gets a 504 but the status stays `pending`: WhatsApp may still have it and ack it
 * late, and a status it accepted must never read `failed`. A late ack makes it `sent` (with the
 * usual events), an error ack, the socket closing or `finalTimeoutMs` passing make it `failed`.
 */
export const sendStatus = async (
  ctx: SendStatusContext,
  input: SendStatusInput,
): Promise<SendStatusReply> => {
  const own = ownIdentity(ctx.sock.authState.creds)
  if (!own.ownJid) throw appError('notConnected')
  // Until its status row is stored nothing refers to the upload: hold it against the orphan sweep.
  const usesUpload = input.type === 'image' || input.type === 'video'
  const release = usesUpload ? ctx.mediaInUse?.claim(input.content) : undefined
  let stored: StoredStatus
  try {
    stored = await prepareAndStore(ctx, input, own.ownJid, own.ownLid)
  } finally {
    release?.()
  }
  return deliver(ctx, input, stored)
}

interface StoredStatus {
  send: PendingSend
  content: PreparedStatusContent
  statusJidList: string[]
}

/** Reads the media, resolves the audience and stores the row as `pending` with its message id. */
const prepareAndStore = async (
  ctx: SendStatusContext,
  input: SendStatusInput,
  ownJid: string,
  ownLid: string | null,
): Promise<StoredStatus> => {
  const content = await prepareStatusContent(input, { media: ctx.media, fetchUrl: ctx.fetchUrl })
  const targets = [...new Set(input.targetNumbers)]
  const audience = await addressAudience(ctx, targets, { ownJid, ownLid })

  const messageId = generateMessageIDV2(ownJid)
  const row = await insertPendingStatus(ctx, input, {
    targets,
    messageId,
    mediaFilename: content.mediaFilename,
  })
  return {
    send: { ctx, row, messageId, contactCount: audience.contactCount },
    content,
    statusJidList: audience.statusJidList,
  }
}

/**
 * The recipient list of a stanza to `targets` (LIDs looked up, see `buildStatusAudience`); the
 * LID ↔ number pairs learned are stored so viewers can be resolved later.
 */
export const addressAudience = async (
  ctx: Pick<SendStatusContext, 'sessionId' | 'sock' | 'repos' | 'logger'>,
  targets: string[],
  own: { ownJid: string; ownLid: string | null },
) => {
  const resolved = targets.length ? await lookupLids(ctx, targets) : []
  const audience = buildStatusAudience({ targetNumbers: targets, ...own, resolved })
  if (audience.lidPairs.length) {
    await ctx.repos.lidMap
      .upsertMany(ctx.sessionId, audience.lidPairs)
      .catch((error) => ctx.logger.warn({ err: error }, 'storing LID pairs failed'))
  }
  return audience
}

/**
 * The row of a status about to go out: `pending`, with the message id chosen up front so a
 * receipt can never arrive for a status we do not know.
 */
export const insertPendingStatus = (
  ctx: Pick<SendStatusContext, 'sessionId' | 'repos' | 'now' | 'retentionMs'>,
  input: SendStatusInput,
  {
    targets,
    messageId,
    mediaFilename,
  }: { targets: string[]; messageId: string; mediaFilename: string | null },
): Promise<StatusRecord> => {
  const createdAt = ctx.now()
  return ctx.repos.statuses.insert({
    sessionId: ctx.sessionId,
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
    mediaFilename,
    createdAt,
    expiresAt: createdAt + ctx.retentionMs,
  })
}

/** Writes the stanza and waits for the verdict, each within its own bound. */
const deliver = async (
  ctx: SendStatusContext,
  input: SendStatusInput,
  { send, content, statusJidList }: StoredStatus,
): Promise<SendStatusReply> => {
  const { messageId } = send
  // Watching before the stanza goes out: an ack may beat `sendMessage` resolving.
  const watch = ctx.acks.watch(messageId)
  const startedAt = performance.now()
  const finalMs = Math.max(ctx.finalTimeoutMs, ctx.prepareTimeoutMs + ctx.ackTimeoutMs)
  const remaining = () => finalMs - (performance.now() - startedAt)
  const sending = ctx.sock.sendMessage(STATUS_BROADCAST_JID, content.message, {
    messageId,
    statusJidList,
    ...(content.isText && input.backgroundColor ? { backgroundColor: input.backgroundColor } : {}),
    ...(content.isText && input.font !== undefined ? { font: input.font } : {}),
  })

  const outcome = (name: 'sent' | 'rejected' | 'failed' | 'timeout') =>
    ctx.metrics?.statusSends.inc({ outcome: name })
  const written = await settleWithin(sending, ctx.prepareTimeoutMs)
  if (written.state === 'pending') {
    outcome('timeout')
    await keepWaiting(send, Messages.sendPrepareTimeout)
    ctx.background(finishLateSend(send, watch, sending, remaining))
    throw appError('sendPrepareTimeout')
  }
  const writtenAt = performance.now()
  // A rejection after the stanza went out (Baileys commits its key store last) still counts as
  // sent when the server has already accepted it.
  const ack = await settleWithin(watch.verdict, written.state === 'rejected' ? 0 : ctx.ackTimeoutMs)
  if (ack.state === 'pending' && written.state === 'rejected') {
    watch.stop()
    outcome('failed')
    throw await markFailed(send, couldNotSend(written.reason))
  }
  if (ack.state === 'pending') {
    outcome('timeout')
    await keepWaiting(send, Messages.sendAckTimeout)
    ctx.background(finishLateAck(send, watch, remaining))
    throw appError('sendAckTimeout')
  }
  const verdict = ack.state === 'fulfilled' ? ack.value : CLOSED
  if (!verdict.ok) {
    outcome(written.state !== 'rejected' && verdict.reason === 'rejected' ? 'rejected' : 'failed')
    throw await markFailed(
      send,
      written.state === 'rejected' ? couldNotSend(written.reason) : ackError(verdict),
    )
  }
  outcome('sent')
  ctx.metrics?.statusAckSeconds.observe({}, (performance.now() - writtenAt) / 1000)
  await markSent(send)
  return {
    statusId: send.row.id,
    waMessageId: messageId,
    contactCount: send.contactCount,
    type: input.type,
  }
}

/** One status on its way out: what the late paths need to finish it. */
interface PendingSend {
  ctx: SendStatusContext
  row: StatusRecord
  messageId: string
  contactCount: number
}

type Settled<T> =
  | { state: 'fulfilled'; value: T }
  | { state: 'rejected'; reason: unknown }
  | { state: 'pending' }

/** How `promise` stands after at most `ms`; it keeps running either way. */
export const settleWithin = <T>(promise: Promise<T>, ms: number): Promise<Settled<T>> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.then(
      (value): Settled<T> => ({ state: 'fulfilled', value }),
      (reason: unknown): Settled<T> => ({ state: 'rejected', reason }),
    ),
    new Promise<Settled<T>>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'pending' }), Math.max(0, ms))
    }),
  ]).finally(() => clearTimeout(timer))
}

/** The stanza was still being prepared when the caller got its 504. */
const finishLateSend = async (
  send: PendingSend,
  watch: AckWatch,
  sending: Promise<unknown>,
  remaining: () => number,
): Promise<void> => {
  // The socket closing settles the watch: no need to wait for Baileys to give up on the send too.
  const first = await settleWithin(Promise.race([sending.then(() => null), watch.verdict]), remaining())
  if (first.state === 'fulfilled') {
    const verdict = first.value
    if (verdict === null) return finishLateAck(send, watch, remaining)
    if (verdict.ok) return markSent(send)
    await markFailed(send, ackError(verdict))
    return
  }
  watch.stop()
  await markFailed(
    send,
    first.state === 'rejected' ? couldNotSend(first.reason) : appError('sendPrepareTimeout'),
  )
}

/** The stanza is out and its ack is late: wait for it until the final bound. */
const finishLateAck = async (send: PendingSend, watch: AckWatch, remaining: () => number): Promise<void> => {
  const ack = await settleWithin(watch.verdict, remaining())
  if (ack.state === 'fulfilled' && ack.value.ok) {
    send.ctx.logger.info({ statusId: send.row.id }, 'late acknowledgement: status sent')
    await markSent(send)
    return
  }
  watch.stop()
  const verdict = ack.state === 'fulfilled' && !ack.value.ok ? ack.value : CLOSED
  await markFailed(send, ack.state === 'pending' ? appError('sendAckTimeout') : ackError(verdict))
}

const couldNotSend = (error: unknown): AppError => {
  const reason = error instanceof Error ? error.message.slice(0, 200) : 'unknown error'
  return appError('couldNotSend', reason)
}

const ackError = (verdict: Exclude<AckVerdict, { ok: true }>): AppError =>
  verdict.reason === 'rejected'
    ? appError('statusRejected', String(verdict.code))
    : appError('sendConnectionClosed')

/** Leaves the status `pending`, saying what it waits for. */
const keepWaiting = async ({ ctx, row }: PendingSend, reason: string): Promise<void> => {
  await ctx.repos.statuses
    .update(ctx.sessionId, row.id, { error: `${reason}${STILL_WAITING}` })
    .catch((dbError) => ctx.logger.error({ err: dbError }, 'recording a late status did not persist'))
  ctx.logger.warn({ statusId: row.id, reason }, 'status not acknowledged yet; waiting for a late verdict')
}

const markSent = async ({ ctx, row, messageId, contactCount }: PendingSend): Promise<void> => {
  const sent = await ctx.repos.statuses.update(ctx.sessionId, row.id, {
    state: 'sent',
    waMessageId: messageId,
    contactCount,
    error: null,
  })
  // Deleted while it was on its way: nothing to announce.
  if (sent) await announceSent(ctx.events, ctx.sessionId, sent)
}

export const lookupLids = async (ctx: Pick<SendStatusContext, 'sock' | 'logger'>, targets: string[]) => {
  try {
    const lookup = ctx.sock.signalRepository.lidMapping.getLIDsForPNs(targets.map(phoneJid))
    return (await withTimeout(lookup, LID_LOOKUP_TIMEOUT_MS)) ?? []
  } catch (error) {
    // Without LIDs the status still goes out, addressed by phone number.
    ctx.logger.warn({ err: error }, 'LID lookup for status recipients failed')
    return []
  }
}

const markFailed = async ({ ctx, row }: PendingSend, error: AppError): Promise<AppError> => {
  await ctx.repos.statuses
    .update(ctx.sessionId, row.id, { state: 'failed', error: error.message })
    .catch((dbError) => ctx.logger.error({ err: dbError }, 'marking status failed did not persist'))
  ctx.logger.warn({ statusId: row.id, reason: error.message }, 'status send failed')
  return error
}

/** `status-sent` and `statuses-updated` for a status WhatsApp acknowledged. */
export const announceSent = async (events: EventPublisher, sessionId: string, status: StatusRecord) => {
  await events.publish({
    event: 'status-sent',
    payload: {
      sessionId,
      id: status.id,
      statusId: status.id,
      type: status.type,
      content: status.content,
      caption: status.caption,
      timestamp: new Date(status.createdAt).toISOString(),
      waMessageId: status.waMessageId ?? '',
      contactCount: status.contactCount,
      targetNumbers: status.targetNumbers,
    },
  })
  await events.publish({
    event: 'statuses-updated',
    payload: { sessionId, message: 'Statuses updated', action: 'sent' },
  })
}
