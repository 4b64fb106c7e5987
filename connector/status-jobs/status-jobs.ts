import { generateMessageIDV2, type proto } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { EventPublisher } from '../../shared/bus/types.js'
import type { CommandInput, CommandReply } from '../../shared/commands.js'
import type { Config } from '../../shared/config.js'
import type { Repositories, StatusJobChunk, StatusJobRecord, StatusRecord } from '../../shared/db/types.js'
import { appError } from '../../shared/errors.js'
import type { ProductMetrics } from '../../shared/metrics.js'
import { randomHex } from '../../shared/random.js'
import { chunkSizes, jobProgress } from '../../shared/status-jobs.js'
import type { MediaStore } from '../../shared/storage/types.js'
import { backoffDelay } from '../backoff.js'
import { jidUser, normalizeUserJid } from '../jid.js'
import { ownIdentity } from '../linking.js'
import type { MediaInUse } from '../retention.js'
import { addressAudience, announceSent, insertPendingStatus, settleWithin } from '../send-status.js'
import {
  type PreparedStatusContent,
  prepareStatusContent,
  type StatusContentInput,
  type UrlMediaFetcher,
} from '../status-content.js'
import { type ChunkConnection, relayChunk } from './relay-chunk.js'
import { generateStatusMessage } from './status-message.js'

export type StartJobInput = CommandInput<'status.startJob'>
export type StartJobReply = CommandReply<'status.startJob'>

export interface StatusJobsDeps {
  sessionId: string
  config: Pick<
    Config,
    | 'STATUS_CHUNK_SIZE'
    | 'STATUS_CHUNK_PAUSE_MS'
    | 'STATUS_CHUNK_ATTEMPTS'
    | 'STATUS_CHUNK_RETRY_MS'
    | 'STATUS_RATE_LIMIT_BACKOFF_MS'
    | 'STATUS_ACK_TIMEOUT_MS'
    | 'STATUS_PREPARE_TIMEOUT_MS'
    | 'STATUS_RETENTION_HOURS'
  >
  repos: Repositories
  events: EventPublisher
  media: MediaStore
  mediaInUse?: MediaInUse | undefined
  metrics?: ProductMetrics | undefined
  fetchUrl: UrlMediaFetcher
  logger: Logger
  now: () => number
  /**
   * The session's open connection, waiting up to `ms` for one; null when the session stopped or
   * none opened in time (the job then waits for the next open, which resumes it).
   */
  connection: (ms: number) => Promise<ChunkConnection | null>
  random?: () => number
}

/** How long a chunk waits for a connection that is reconnecting before the job waits for the next open. */
const CONNECTION_WAIT_MS = 30_000
/** Retry waits never grow past this, whatever the attempts. */
const MAX_RETRY_WAIT_MS = 10 * 60_000

/** One job being worked on: its record and what its chunks need to go out. */
interface ActiveJob {
  job: StatusJobRecord
  recipients: string[]
  /** What the content is read from again when a try consumed its media stream and failed. */
  source: StatusContentInput
  content: PreparedStatusContent
  /** A try has read `content` (a media stream can be read once). */
  contentUsed: boolean
  options: { backgroundColor?: string | undefined; font?: number | undefined }
  /** Generated (media uploaded) on the first chunk, then relayed by every chunk. */
  message: proto.IMessage | null
}

/**
 * A session's big-audience sends. The audience splits into chunks of STATUS_CHUNK_SIZE that all
 * carry ONE message id (as WhatsApp Web does), sent one after the other with a pause between,
 * each acked before the next; a failed chunk is retried with the same id (429: a longer backoff),
 * and each chunk's outcome is stored with the job as it settles and announced
 * (`status-send-progress`). Jobs of a session run one at a time, in order.
 *
 * A job survives its connection: a chunk waits for a reconnect, and when the session stops (or
 * its connector dies) the job stays `running` in the database; the next time the session's
 * connection opens — on this connector or the one taking the session over — it resumes at the
 * first chunk not sent, same id. (A resumed media status is uploaded again.)
 */
export class StatusJobs {
  private tail: Promise<void> = Promise.resolve()
  private readonly active = new Set<string>()
  private stopped = false
  private readonly sleepers = new Set<() => void>()

  constructor(private readonly deps: StatusJobsDeps) {}

  /** Stores the status and its job, answers, and sends the chunks afterwards. */
  async start(conn: ChunkConnection, input: StartJobInput): Promise<StartJobReply> {
    this.stopped = false
    const { repos, sessionId, config } = this.deps
    const own = ownIdentity(conn.sock.authState.creds)
    if (!own.ownJid) throw appError('notConnected')
    const usesUpload = input.type === 'image' || input.type === 'video'
    const release = usesUpload ? this.deps.mediaInUse?.claim(input.content) : undefined
    // Claimed before its row exists: a resume reading the running jobs meanwhile leaves it alone.
    const jobId = `job_${randomHex(8)}`
    this.active.add(jobId)
    let enqueued = false
    try {
      const content = await prepareStatusContent(input, {
        media: this.deps.media,
        fetchUrl: this.deps.fetchUrl,
      })
      const targets = [...new Set(input.targetNumbers)]
      const recipients = jobRecipients(targets, own.ownJid)
      const messageId = generateMessageIDV2(own.ownJid)
      const status = await insertPendingStatus(
        { sessionId, repos, now: this.deps.now, retentionMs: config.STATUS_RETENTION_HOURS * 3_600_000 },
        input,
        { targets, messageId, mediaFilename: content.mediaFilename },
      )
      const now = status.createdAt
      const job: StatusJobRecord = {
        sessionId,
        id: jobId,
        statusId: status.id,
        waMessageId: messageId,
        state: 'running',
        chunkSize: config.STATUS_CHUNK_SIZE,
        recipientsTotal: recipients.length,
        chunks: chunkSizes(recipients.length, config.STATUS_CHUNK_SIZE).map(newChunk),
        error: null,
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
      }
      await repos.statusJobs.insert(job)
      this.deps.logger.info(
        { statusId: status.id, jobId: job.id, recipients: recipients.length, chunks: job.chunks.length },
        'status job started',
      )
      this.enqueue({
        job,
        recipients,
        source: input,
        content,
        contentUsed: false,
        options: input,
        message: null,
      })
      enqueued = true
      return {
        jobId: job.id,
        statusId: status.id,
        waMessageId: messageId,
        recipientsTotal: recipients.length,
        chunksTotal: job.chunks.length,
      }
    } finally {
      release?.()
      if (!enqueued) this.active.delete(jobId)
    }
  }

  /** Picks up this session's jobs still `running` (after a reconnect, a restart or a failover). */
  async resume(ownJid: string): Promise<void> {
    this.stopped = false
    const jobs = await this.deps.repos.statusJobs.running(this.deps.sessionId)
    for (const job of jobs) {
      // Claimed at once: two opens in quick succession must not send one job twice.
      if (this.active.has(job.id)) continue
      this.active.add(job.id)
      const resumed = await this.resumable(job, ownJid).catch((error) => {
        this.deps.logger.error({ err: error, jobId: job.id }, 'resuming a status job failed')
        return null
      })
      if (resumed) this.enqueue(resumed)
      else this.active.delete(job.id)
    }
  }

  /** What a stored job needs to go on, or null when it ended here (its status gone or unreadable). */
  private async resumable(job: StatusJobRecord, ownJid: string): Promise<ActiveJob | null> {
    const status = await this.deps.repos.statuses.get(this.deps.sessionId, job.statusId)
    if (!status) {
      await this.finish(job, null)
      return null
    }
    const source = { type: status.type, content: status.content, caption: status.caption }
    let content: PreparedStatusContent
    try {
      content = await prepareStatusContent(source, { media: this.deps.media, fetchUrl: this.deps.fetchUrl })
    } catch (error) {
      await this.finish(job, status, error instanceof Error ? error.message : String(error))
      return null
    }
    const targets = status.targetNumbers ? status.targetNumbers.split(',') : []
    this.deps.logger.info({ jobId: job.id, statusId: status.id }, 'resuming status job')
    return {
      job,
      recipients: jobRecipients(targets, ownJid),
      source,
      content,
      contentUsed: false,
      options: { backgroundColor: status.backgroundColor ?? undefined, font: status.font ?? undefined },
      message: null,
    }
  }

  /** Stops sending: the chunk in flight settles, the jobs stay `running` for the next open. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const wake of [...this.sleepers]) wake()
    await this.tail
  }

  private enqueue(active: ActiveJob): void {
    this.active.add(active.job.id)
    this.tail = this.tail
      .then(() => this.run(active))
      .catch((error) => this.deps.logger.error({ err: error, jobId: active.job.id }, 'status job failed'))
      .finally(() => this.active.delete(active.job.id))
  }

  private async run(active: ActiveJob): Promise<void> {
    const { job } = active
    for (const [index, chunk] of job.chunks.entries()) {
      if (chunk.state !== 'pending') continue
      const outcome = await this.sendChunk(active, index, chunk)
      if (outcome === 'stopped') return
      if (outcome === 'gone') return this.finish(job, null)
      if (job.chunks.some((later, i) => i > index && later.state === 'pending')) {
        await this.sleep(this.deps.config.STATUS_CHUNK_PAUSE_MS)
      }
    }
    if (this.stopped) return
    await this.finish(job, await this.deps.repos.statuses.get(job.sessionId, job.statusId))
  }

  /** Sends one chunk until it is acked or out of attempts; `stopped` leaves it for the next open. */
  private async sendChunk(
    active: ActiveJob,
    index: number,
    chunk: StatusJobChunk,
  ): Promise<'settled' | 'stopped' | 'gone'> {
    const { config } = this.deps
    const { job } = active
    const numbers = active.recipients.slice(index * job.chunkSize, index * job.chunkSize + chunk.size)
    let rateLimited = 0
    while (chunk.state === 'pending') {
      if (this.stopped) return 'stopped'
      const conn = await this.deps.connection(CONNECTION_WAIT_MS)
      if (!conn || this.stopped) return 'stopped'
      const verdict = await this.attempt(active, conn, numbers)
      chunk.attempts++
      if (verdict.ok) {
        // A failure before the success stays in `error`: the truth of how the chunk went.
        chunk.state = 'sent'
        chunk.sentAt = this.deps.now()
        this.deps.metrics?.statusSends.inc({ outcome: 'sent' })
        this.deps.metrics?.statusAckSeconds.observe({}, verdict.ackMs / 1000)
      } else {
        chunk.error = verdict.error
        if (chunk.attempts >= config.STATUS_CHUNK_ATTEMPTS) {
          chunk.state = 'failed'
          this.deps.metrics?.statusSends.inc({ outcome: verdict.code ? 'rejected' : 'failed' })
        }
        this.deps.logger.warn(
          { jobId: job.id, chunk: index, attempt: chunk.attempts, reason: verdict.error },
          'status chunk not sent',
        )
      }
      if (!(await this.save(active))) return 'gone'
      if (chunk.state !== 'pending') break
      const limited = !verdict.ok && verdict.code === '429'
      const wait = limited
        ? backoffDelay(
            rateLimited++,
            this.retryOptions(config.STATUS_RATE_LIMIT_BACKOFF_MS),
            this.deps.random,
          )
        : backoffDelay(chunk.attempts - 1, this.retryOptions(config.STATUS_CHUNK_RETRY_MS), this.deps.random)
      await this.sleep(wait)
    }
    return 'settled'
  }

  /** One try of a chunk: the message (generated on the first), the chunk's audience, the relay. */
  private async attempt(active: ActiveJob, conn: ChunkConnection, numbers: string[]) {
    const { config, logger, repos, sessionId } = this.deps
    const own = ownIdentity(conn.sock.authState.creds)
    if (!own.ownJid) return { ok: false as const, error: appError('notConnected').message }
    if (!active.message) {
      if (active.contentUsed) {
        const media = { media: this.deps.media, fetchUrl: this.deps.fetchUrl }
        const again = await prepareStatusContent(active.source, media).catch((error: unknown) => error)
        if (again instanceof Error) return { ok: false as const, error: again.message.slice(0, 200) }
        active.content = again as PreparedStatusContent
      }
      active.contentUsed = true
      const generating = generateStatusMessage(
        conn.sock,
        active.content,
        { messageId: active.job.waMessageId, ...active.options },
        logger,
      )
      const generated = await settleWithin(generating, config.STATUS_PREPARE_TIMEOUT_MS)
      if (generated.state !== 'fulfilled') {
        generating.catch(() => {})
        const reason =
          generated.state === 'rejected' && generated.reason instanceof Error
            ? generated.reason.message.slice(0, 200)
            : 'preparing the status took too long'
        return { ok: false as const, error: appError('couldNotSend', reason).message }
      }
      active.message = generated.value
    }
    const audience = await addressAudience({ sessionId, sock: conn.sock, repos, logger }, numbers, {
      ownJid: own.ownJid,
      ownLid: own.ownLid,
    })
    return relayChunk(conn, active.message, active.job.waMessageId, audience.statusJidList, {
      prepareTimeoutMs: config.STATUS_PREPARE_TIMEOUT_MS,
      ackTimeoutMs: config.STATUS_ACK_TIMEOUT_MS,
    })
  }

  private retryOptions(baseMs: number) {
    return { baseMs, maxMs: Math.max(baseMs, MAX_RETRY_WAIT_MS), jitter: 0.2 }
  }

  /**
   * Stores the chunks' outcomes and the recipients reached so far on the status, then announces
   * the progress. False when the status or the job was deleted meanwhile: the job ends there.
   */
  private async save(active: ActiveJob): Promise<boolean> {
    const { job } = active
    const { repos, sessionId } = this.deps
    job.updatedAt = this.deps.now()
    if (!(await repos.statusJobs.save(job))) return false
    const progress = jobProgress(job)
    const status = await repos.statuses.update(sessionId, job.statusId, {
      contactCount: progress.recipientsSent,
    })
    if (!status) return false
    await this.deps.events.publish({ event: 'status-send-progress', payload: progress })
    return true
  }

  /**
   * Settles the job and its status: `completed` (every chunk acked), `partial`, `failed` (none),
   * or `cancelled` when its status is gone. A status some chunk reached is `sent`, and announced.
   */
  private async finish(job: StatusJobRecord, status: StatusRecord | null, failure?: string): Promise<void> {
    const { repos, sessionId, events } = this.deps
    const progress = jobProgress(job)
    const someSent = progress.chunksSent > 0 || (job.recipientsTotal === 0 && !failure)
    job.state = !status
      ? 'cancelled'
      : failure
        ? 'failed'
        : progress.chunksFailed === 0
          ? 'completed'
          : someSent
            ? 'partial'
            : 'failed'
    const lastError = failure ?? job.chunks.findLast((chunk) => chunk.state === 'failed')?.error ?? null
    job.error = job.state === 'cancelled' ? 'The status was deleted while it was being sent' : lastError
    // The status first: whoever sees the job finished finds its status settled too.
    let announce: StatusRecord | null = null
    if (status) {
      const reached = someSent && job.state !== 'failed'
      const error =
        job.state === 'partial'
          ? `${progress.recipientsFailed} of ${job.recipientsTotal} recipients not reached: ${lastError}`
          : job.state === 'failed'
            ? lastError
            : null
      const updated = await repos.statuses.update(sessionId, job.statusId, {
        state: reached ? 'sent' : 'failed',
        contactCount: progress.recipientsSent,
        error,
      })
      if (updated && reached) announce = updated
    }
    job.updatedAt = this.deps.now()
    job.finishedAt = job.updatedAt
    await repos.statusJobs.save(job)
    this.deps.logger.info({ ...progress, state: job.state }, 'status job finished')
    if (announce) await announceSent(events, sessionId, announce)
    await events.publish({ event: 'status-send-progress', payload: { ...progress, state: job.state } })
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve()
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.sleepers.add(wake)
    })
  }
}

const newChunk = (size: number): StatusJobChunk => ({
  size,
  state: 'pending',
  attempts: 0,
  error: null,
  sentAt: null,
})

/** Who a job sends to, in order: the (unique) targets without the account's own number. */
export const jobRecipients = (targets: readonly string[], ownJid: string): string[] => {
  const own = jidUser(normalizeUserJid(ownJid) ?? ownJid)
  return targets.filter((number) => number !== own)
}
