import type { StatusJobState } from '../events.js'
import type { AuthMethod, SessionState, StatusState, StatusType } from '../schemas.js'

/** Rows as the repositories return them. Times are epoch milliseconds. */
export interface SessionRecord {
  id: string
  name: string
  authMethod: AuthMethod
  phoneNumber: string | null
  state: SessionState
  /** Digits of the linked account's phone number, once linked. */
  ownNumber: string | null
  ownJid: string | null
  ownLid: string | null
  pairingCode: string | null
  /** QR as a PNG data URL while waiting for a scan. */
  qrCode: string | null
  lastError: string | null
  /** The connector holding the session (split mode); null in embedded mode or before placement. */
  connectorId: string | null
  createdAt: number
  updatedAt: number
}

export type SessionPatch = Partial<Omit<SessionRecord, 'id' | 'createdAt' | 'updatedAt'>>

export interface StatusRecord {
  sessionId: string
  id: string
  type: StatusType
  content: string
  caption: string
  backgroundColor: string | null
  font: number | null
  /** Numbers as the user gave them, comma-separated. */
  targetNumbers: string
  contactCount: number
  waMessageId: string | null
  state: StatusState
  error: string | null
  /** Stored upload this status uses (deleted with it), if any. */
  mediaFilename: string | null
  createdAt: number
  expiresAt: number
}

export type NewStatus = Omit<StatusRecord, 'id'>
export type StatusPatch = Partial<Pick<StatusRecord, 'waMessageId' | 'state' | 'error' | 'contactCount'>>

export interface ViewerRecord {
  sessionId: string
  statusId: string
  /** Stable identity of the viewer: the phone JID when known, else the LID. */
  jid: string
  number: string | null
  lid: string | null
  isReal: boolean
  viewedAt: number
}

export interface UploadRecord {
  filename: string
  kind: 'image' | 'video'
  mime: string
  size: number
  createdAt: number
  /**
   * False while the file went straight to object storage through a presigned link and its bytes
   * were not checked yet (type sniffed, size read); the first send that uses it checks them.
   */
  verified?: boolean
}

/** The first outcome of a command that must not run twice, kept where any connector finds it. */
export interface CommandLogRecord {
  id: string
  sessionId: string
  name: string
  /** `running` until the outcome is known; a `running` record whose connector died stays so. */
  state: 'running' | 'done'
  /** The reply envelope (`{ ok, data }` or `{ ok: false, error }`) once done. */
  reply: unknown
  createdAt: number
}

export interface CommandLogRepo {
  /** Records the start of a command; returns the earlier record instead when the id is known. */
  begin(entry: {
    id: string
    sessionId: string
    name: string
    createdAt: number
  }): Promise<CommandLogRecord | null>
  finish(id: string, reply: unknown, finishedAt: number): Promise<void>
  /** Forgets records older than `before`; returns how many. */
  deleteOlderThan(before: number): Promise<number>
}

/** How current a read must be, where the repositories keep a read model (`read-model.ts`). */
export interface ReadOptions {
  /**
   * Read the stored row now, never a cached copy: for decisions taken on a session's state (a
   * command), where a read model that other processes write past may be a moment behind.
   */
  fresh?: boolean
}

export interface SessionsRepo {
  /** Throws AppError('conflict', 'Session already exists') when the id is taken. */
  create(
    record: Omit<SessionRecord, 'createdAt' | 'updatedAt' | 'connectorId'> & { createdAt?: number },
  ): Promise<SessionRecord>
  get(id: string, options?: ReadOptions): Promise<SessionRecord | null>
  /**
   * Oldest first. Behind a read model the array and its records are shared by every reader (and
   * frozen): never modify them.
   */
  list(): Promise<SessionRecord[]>
  update(id: string, patch: SessionPatch): Promise<SessionRecord | null>
  delete(id: string): Promise<boolean>
  /**
   * Behind a read model: forget the cached rows, so the next read goes to the database. For a
   * process that asked another one (a connector) to change a session.
   */
  invalidate?(): void
  /**
   * Behind a read model, synchronously: the list as `list()` would answer it now, or undefined
   * when that needs the database. For answering a request without waiting on anything.
   */
  peekList?(): SessionRecord[] | undefined
  /** Like `peekList`, for one session: null when it is known not to exist. */
  peek?(id: string): SessionRecord | null | undefined
}

export interface StatusesRepo {
  /** Inserts with a fresh id (ms timestamp, unique per session even under concurrency). */
  insert(status: NewStatus): Promise<StatusRecord>
  get(sessionId: string, id: string): Promise<StatusRecord | null>
  getByWaMessageId(sessionId: string, waMessageId: string): Promise<StatusRecord | null>
  /** Newest first, not expired at `now`. */
  listActive(sessionId: string, now: number): Promise<(StatusRecord & { viewerCount: number })[]>
  update(sessionId: string, id: string, patch: StatusPatch): Promise<StatusRecord | null>
  /** Deletes the status and its viewers in one transaction. */
  delete(sessionId: string, id: string): Promise<StatusRecord | null>
  /** Removes a session's statuses, viewers and their archived history. */
  deleteAllForSession(sessionId: string): Promise<StatusRecord[]>
  /** Deletes statuses (and their viewers) whose expiry is at or before `now`; returns them. */
  /**
   * Removes the statuses expired at `now` with their viewers; with `archive`, sent ones are first
   * copied into the analytics history (status_archive, viewer_archive).
   */
  deleteExpired(now: number, options?: { archive?: boolean }): Promise<StatusRecord[]>
  /** Drops analytics history of statuses sent before `before`. */
  pruneArchive(before: number): Promise<void>
  /**
   * Marks `failed` (with `error`) every status still `pending` that was created before `before`:
   * sends whose process went away before a verdict. Returns how many.
   */
  failStalePending(before: number, error: string): Promise<number>
  /** Whether any status still refers to this upload. */
  isMediaReferenced(filename: string): Promise<boolean>
  /**
   * A number that grows with every change to the session's statuses or viewers, whichever process
   * made it (0 before the first). A reader that remembers the number it read a list at knows the
   * list is still current while the number is the same.
   */
  changeVersion(sessionId: string): Promise<number>
  /**
   * Behind a read model that other processes write past: ask for every session's change version
   * again on its next read. For a process that asked another one (a connector) to change things.
   */
  invalidate?(): void
  /** Behind a read model, synchronously: `listActive`'s answer, or undefined when it needs the database. */
  peekActive?(sessionId: string, now: number): (StatusRecord & { viewerCount: number })[] | undefined
  stats(): Promise<{ total: number; lastSentAt: number | null; perSession: Record<string, number> }>
}

export interface ViewersRepo {
  /**
   * Records views in one batched write; the first view of a viewer wins. Returns only the rows
   * that were new.
   */
  recordMany(views: ViewerRecord[]): Promise<ViewerRecord[]>
  list(sessionId: string, statusId: string): Promise<ViewerRecord[]>
  /**
   * The viewers of a status, first view first, and in the same round trip whether the status
   * exists: null when it does not. Behind a read model the array is shared (and frozen).
   */
  listForStatus(sessionId: string, statusId: string): Promise<ViewerRecord[] | null>
  /** Behind a read model, synchronously: `listForStatus`'s answer, or undefined when it needs the database. */
  peekForStatus?(sessionId: string, statusId: string): ViewerRecord[] | null | undefined
  /** Up to `limit` viewers of a status in JID order, after `afterJid` (null: from the start). */
  listPage(
    sessionId: string,
    statusId: string,
    afterJid: string | null,
    limit: number,
  ): Promise<ViewerRecord[]>
  count(): Promise<number>
}

export interface UploadsRepo {
  insert(upload: UploadRecord): Promise<void>
  get(filename: string): Promise<UploadRecord | null>
  delete(filename: string): Promise<boolean>
  /** Records what the stored bytes turned out to be, once they were checked; false when the record is gone. */
  markVerified(filename: string, found: { mime: string; size: number }): Promise<boolean>
  /**
   * Deletes the record only while it is still unverified and no status uses it (one statement), so
   * a concurrent check that found the file good is not undone. Whether it went.
   */
  deleteUnverified(filename: string): Promise<boolean>
  /**
   * Uploads created at or before `createdBefore` that no status refers to, in filename order after
   * `after` (null: from the first), at most `limit`: one batch of the orphan sweep.
   */
  listUnreferenced(
    createdBefore: number,
    page: { after: string | null; limit: number },
  ): Promise<UploadRecord[]>
  /**
   * Deletes the record only if it is still created at or before `createdBefore` and no status refers
   * to it at that moment (one statement, so a status inserted meanwhile keeps it). Whether it went.
   */
  deleteIfUnreferenced(filename: string, createdBefore: number): Promise<boolean>
}

/** LID ↔ phone number pairs learned at send time (usync) or from receipts' participant_pn. */
export interface LidMapRepo {
  upsertMany(sessionId: string, pairs: { lid: string; pn: string }[]): Promise<void>
  getPnForLids(sessionId: string, lids: string[]): Promise<Map<string, string>>
  deleteForSession(sessionId: string): Promise<void>
}

export interface StorageUsage {
  sessionId: string
  authKeys: number
  authBytes: number
  statuses: number
  viewers: number
}

export interface AudienceRecord {
  sessionId: string
  id: string
  name: string
  /** Unique numbers, in the order given. */
  numbers: string[]
  createdAt: number
}

export interface AudiencesRepo {
  insert(audience: AudienceRecord): Promise<void>
  get(sessionId: string, id: string): Promise<AudienceRecord | null>
  /** A session's audiences, newest first. */
  list(sessionId: string): Promise<AudienceRecord[]>
  delete(sessionId: string, id: string): Promise<boolean>
  deleteAllForSession(sessionId: string): Promise<void>
}

export type ScheduleRepeat = 'none' | 'daily' | 'weekly'
export type ScheduleState = 'scheduled' | 'sending' | 'done' | 'missed' | 'failed' | 'cancelled'

export interface ScheduledStatusRecord {
  sessionId: string
  id: string
  /** Epoch ms of the next (or last, once done) send. */
  sendAt: number
  /** The send as the API validated it: the `status.send` command input without the session. */
  request: Record<string, unknown>
  repeat: ScheduleRepeat
  state: ScheduleState
  lastStatusId: string | null
  lastError: string | null
  sentCount: number
  createdAt: number
  updatedAt: number
}

export interface ScheduledStatusesRepo {
  insert(record: ScheduledStatusRecord): Promise<void>
  list(sessionId: string): Promise<ScheduledStatusRecord[]>
  get(sessionId: string, id: string): Promise<ScheduledStatusRecord | null>
  /** Scheduled ones whose time has come (any session), oldest first. */
  due(now: number, limit: number): Promise<ScheduledStatusRecord[]>
  /** The earliest send time still ahead, for the scheduler's next wake-up; null when none. */
  nextSendAt(): Promise<number | null>
  /**
   * Moves one from `from` to `to` with the given changes, only if it is still in `from`: the
   * claim that makes a send happen once even with several connectors looking.
   */
  transition(
    sessionId: string,
    id: string,
    from: ScheduleState,
    to: ScheduleState,
    changes?: Partial<Pick<ScheduledStatusRecord, 'sendAt' | 'lastStatusId' | 'lastError' | 'sentCount'>>,
  ): Promise<boolean>
  /** Sends left `sending` since before `before` (their connector died mid-send). */
  stuck(before: number): Promise<ScheduledStatusRecord[]>
  deleteAllForSession(sessionId: string): Promise<void>
}

export type StatusJobChunkState = 'pending' | 'sent' | 'failed'

/** One stanza of a job: which slice of the audience, and how its sending went. */
export interface StatusJobChunk {
  size: number
  state: StatusJobChunkState
  attempts: number
  /** The last failure (an error ack, a timeout, the connection closing); kept once it succeeded. */
  error: string | null
  sentAt: number | null
}

/**
 * A big audience's send. The recipients are the status's `targetNumbers` without the account's
 * own number, in order; chunk i is the i-th slice of `chunkSize`, so nothing but the chunks'
 * outcomes needs storing, and a connector taking the session over resumes at the first chunk
 * not sent, with the same message id.
 */
export interface StatusJobRecord {
  sessionId: string
  id: string
  statusId: string
  waMessageId: string
  state: StatusJobState
  chunkSize: number
  recipientsTotal: number
  chunks: StatusJobChunk[]
  error: string | null
  createdAt: number
  updatedAt: number
  finishedAt: number | null
}

export interface StatusJobsRepo {
  insert(record: StatusJobRecord): Promise<void>
  get(id: string): Promise<StatusJobRecord | null>
  /** A session's jobs still running (to resume when its connection opens), oldest first. */
  running(sessionId: string): Promise<StatusJobRecord[]>
  /** Stores the chunks' outcomes and the job's state; false when the job is gone. */
  save(record: StatusJobRecord): Promise<boolean>
  deleteAllForSession(sessionId: string): Promise<void>
}

export interface WebhookRecord {
  id: string
  /** null: every session's events. */
  sessionId: string | null
  url: string
  /** Event names, or `['*']` for all. */
  events: string[]
  secret: string
  description: string | null
  /** A paused webhook gets no new deliveries (those queued still go out). */
  active: boolean
  createdAt: number
}

export type WebhookPatch = Partial<Pick<WebhookRecord, 'url' | 'events' | 'description' | 'active'>>

export type DeliveryState = 'pending' | 'delivering' | 'delivered' | 'failed'

export interface WebhookDeliveryRecord {
  id: string
  webhookId: string
  sessionId: string
  event: string
  /** The JSON body exactly as sent (and signed) on every attempt. */
  body: string
  state: DeliveryState
  attempts: number
  nextAttemptAt: number
  leaseUntil: number | null
  lastAttemptAt: number | null
  responseStatus: number | null
  lastError: string | null
  redeliveryOf: string | null
  createdAt: number
  deliveredAt: number | null
}

/** A delivery claimed for an attempt, with where it goes and the secret that signs it. */
export interface ClaimedDelivery extends WebhookDeliveryRecord {
  url: string
  secret: string
}

export interface DeliveryOutcome {
  state: 'pending' | 'delivered' | 'failed'
  /** For `pending`: when the next attempt is due. */
  nextAttemptAt?: number
  responseStatus: number | null
  error: string | null
  at: number
}

export interface WebhooksRepo {
  insert(webhook: WebhookRecord): Promise<void>
  get(id: string): Promise<WebhookRecord | null>
  /** Newest first; with a session, its own webhooks and the global ones. */
  list(sessionId?: string): Promise<WebhookRecord[]>
  /** Every webhook, as the event dispatcher matches events against them. */
  all(): Promise<WebhookRecord[]>
  /** Changes what the patch names; the updated webhook, or null when there is none. */
  update(id: string, patch: WebhookPatch): Promise<WebhookRecord | null>
  /** Removes the webhook and its delivery log. */
  delete(id: string): Promise<boolean>
  /** A session's own webhooks and their logs (global ones stay). */
  deleteAllForSession(sessionId: string): Promise<void>
  /** Queues deliveries: pending and never tried, whatever those fields of the records say. */
  insertDeliveries(deliveries: readonly WebhookDeliveryRecord[]): Promise<void>
  getDelivery(webhookId: string, id: string): Promise<WebhookDeliveryRecord | null>
  /** A webhook's deliveries (in `state`, if given), newest first, after the position `before`. */
  deliveries(
    webhookId: string,
    limit: number,
    before?: [number, string],
    state?: DeliveryState,
  ): Promise<WebhookDeliveryRecord[]>
  /**
   * Takes up to `limit` due deliveries for one attempt each (pending → delivering, attempts + 1,
   * leased until `leaseUntil`) in one statement, so two deliverers never take the same one. A
   * lease that ran out (its deliverer died mid-attempt) makes the delivery due again.
   */
  claimDue(now: number, limit: number, leaseUntil: number): Promise<ClaimedDelivery[]>
  /** Records an attempt's result; false when the delivery is no longer leased (or gone). */
  finishAttempt(id: string, outcome: DeliveryOutcome): Promise<boolean>
  /** Deletes finished deliveries (delivered or failed) created before `before`; returns how many. */
  pruneDeliveries(before: number): Promise<number>
}

export type KeyScope = 'read' | 'send' | 'admin'

export interface ApiKeyRecord {
  id: string
  name: string
  /** Hex SHA-256 of the key; the key itself is never stored. */
  keyHash: string
  /** The key's first characters, to recognise it in a list. */
  keyPrefix: string
  scopes: KeyScope[]
  /** null: every session, present and future. */
  sessionIds: string[] | null
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

export interface ApiKeysRepo {
  insert(key: ApiKeyRecord): Promise<void>
  /** Newest first, revoked ones included. */
  list(): Promise<ApiKeyRecord[]>
  findByHash(keyHash: string): Promise<ApiKeyRecord | null>
  /** Marks it revoked; false when there is no such key or it already was. */
  revoke(id: string, at: number): Promise<boolean>
  touch(id: string, at: number): Promise<void>
}

export interface ContactRecord {
  number: string
  /** The name the phone's address book or the contact's profile gives; null when none came. */
  name: string | null
}

export interface ContactsRepo {
  /** Adds or updates contacts; a known name is not replaced by a missing one. */
  upsertMany(sessionId: string, contacts: readonly ContactRecord[], at: number): Promise<void>
  /** By number. */
  list(sessionId: string): Promise<ContactRecord[]>
  deleteAllForSession(sessionId: string): Promise<void>
}

/** A sent status as analytics across statuses need it (live or from the history). */
export interface SentStatusSummary {
  id: string
  createdAt: number
  targetNumbers: string
}

export interface ViewSummary {
  statusId: string
  jid: string
  number: string | null
  viewedAt: number
}

/** Reads across a session's statuses, live and archived (shared/db/repositories/analytics.ts). */
export interface AnalyticsRepo {
  /** The last `limit` sent statuses, newest first. */
  recentStatuses(sessionId: string, limit: number): Promise<SentStatusSummary[]>
  /** Sent statuses created at or after `since`, oldest first. */
  statusesSince(sessionId: string, since: number): Promise<SentStatusSummary[]>
  /** The views (first view each) of these statuses. */
  viewsOf(sessionId: string, statusIds: readonly string[]): Promise<ViewSummary[]>
  /** Views at or after `since`. */
  viewsSince(sessionId: string, since: number): Promise<ViewSummary[]>
}

export interface Repositories {
  sessions: SessionsRepo
  statuses: StatusesRepo
  viewers: ViewersRepo
  uploads: UploadsRepo
  lidMap: LidMapRepo
  commandLog: CommandLogRepo
  analytics: AnalyticsRepo
  audiences: AudiencesRepo
  scheduled: ScheduledStatusesRepo
  statusJobs: StatusJobsRepo
  webhooks: WebhooksRepo
  apiKeys: ApiKeysRepo
  contacts: ContactsRepo
  /** Per-session row counts and auth-state bytes, for GET /api/storage. */
  storageUsage(): Promise<{ databaseBytes: number | null; sessions: StorageUsage[] }>
}
