import { mergeSorted } from '../sorted-merge.js'
import { byViewOrder } from './repositories/viewers.js'
import type {
  Repositories,
  SessionRecord,
  SessionsRepo,
  StatusesRepo,
  StatusRecord,
  ViewerRecord,
  ViewersRepo,
} from './types.js'

/**
 * A read model over the repositories: what almost every request reads (sessions and their states,
 * a session's statuses, a status's viewers) is answered from memory, and the database is read
 * again only after a change. Web APIs only, so the Workers build uses it too.
 *
 * Two ways to know about a change:
 *  - `exact`: every write goes through these same repositories (embedded mode: API and connector
 *    in one process share one object). Each write drops what it may change, before it starts and
 *    again when it is done, and a read that was under way meanwhile does not keep its result, so
 *    a read never returns data older than the last write that finished before it began. No query
 *    runs while nothing changes. Viewer writes are the exception to dropping: they only ever add
 *    rows, and the repository says which ones, so those are added to the lists in memory (viewer
 *    lists and the status list's counts) once the write is done.
 *  - `bounded`: other processes write too (split mode: connectors write sessions, statuses and
 *    viewers this process never sees).
 *      · Sessions: the list is kept for at most `maxAgeMs` and dropped at once on this
 *        process's own writes and on `sessions.invalidate()` (called after each command, which a
 *        connector carries out). A session the list does not know is looked up in the database,
 *        and `get(id, { fresh: true })` (commands act on it) always is. So a read of a session may
 *        be up to `maxAgeMs` behind a connector's write, never a 404 or a 409 that the
 *        database would not give.
 *      · Statuses and viewers: a session's lists are read again only when its change version
 *        (one indexed row, `status_versions`, bumped by every writer) moved, instead of reading
 *        and counting every row; the version is asked for at most every `maxAgeMs`, at once after
 *        this process's own writes to the session and after `statuses.invalidate()` (called after
 *        each command, like the sessions'). So a list is at most `maxAgeMs` behind a connector's
 *        write (live changes reach clients as Socket.IO events anyway), and in between it is
 *        answered from memory without waiting on anything, as in exact mode.
 *
 * Cached arrays and records are shared by all readers and frozen. A serializer can key its output
 * by their identity (the same array means the same data).
 */
export type ReadModelOptions = { maxCachedViewers?: number } & (
  | { consistency: 'exact' }
  | { consistency: 'bounded'; maxAgeMs: number; clock?: () => number }
)

/**
 * How long the API of a split deployment serves the session list, and a session's change version,
 * without reading them again (README, "Performance"): long enough that a busy API reads them a few
 * times a second at most, short enough that what a connector stored shows within a blink.
 */
export const SPLIT_MAX_AGE_MS = 250

/** Viewer rows kept over all cached lists in exact mode (a few hundred bytes each). */
const DEFAULT_MAX_CACHED_VIEWERS = 50_000

/**
 * Write sequence numbers per scope. A load notes the sequence when it starts and keeps its result
 * only if no write to its scope (or to everything) started since.
 */
class WriteLog {
  private seq = 0
  private everything = 0
  private readonly byScope = new Map<string, number>()

  get now(): number {
    return this.seq
  }

  touch(scope: string): void {
    this.byScope.set(scope, ++this.seq)
  }

  touchAll(): void {
    this.everything = ++this.seq
  }

  unchangedSince(scope: string, seq: number): boolean {
    return this.everything <= seq && (this.byScope.get(scope) ?? 0) <= seq
  }
}

/** Runs a write with its scopes dropped before it starts and again once it is done. */
const writing = async <T>(drop: () => void, run: () => Promise<T>): Promise<T> => {
  drop()
  try {
    return await run()
  } finally {
    drop()
  }
}

const freezeAll = <T extends object>(records: T[]): T[] => {
  for (const record of records) Object.freeze(record)
  return Object.freeze(records) as T[]
}

// ── sessions ──────────────────────────────────────────────────────────────────────────────────

interface SessionsSnapshot {
  list: SessionRecord[]
  byId: Map<string, SessionRecord>
  loadedAt: number
}

const SESSIONS = 'sessions'

const sessionsReadModel = (
  inner: SessionsRepo,
  writes: WriteLog,
  freshness: { exact: true } | { exact: false; maxAgeMs: number; clock: () => number },
): SessionsRepo => {
  let snapshot: SessionsSnapshot | null = null
  let loading: { since: number; promise: Promise<SessionsSnapshot> } | null = null
  const now = () => (freshness.exact ? 0 : freshness.clock())

  const drop = () => {
    writes.touch(SESSIONS)
    snapshot = null
  }

  const load = (): Promise<SessionsSnapshot> => {
    // Concurrent readers share one query, unless a write started after it did.
    if (loading && writes.unchangedSince(SESSIONS, loading.since)) return loading.promise
    const since = writes.now
    const loadedAt = now()
    const promise = inner.list().then(
      (records) => {
        const list = freezeAll(records)
        const loaded = { list, byId: new Map(list.map((s) => [s.id, s])), loadedAt }
        if (writes.unchangedSince(SESSIONS, since)) snapshot = loaded
        if (loading?.promise === promise) loading = null
        return loaded
      },
      (error: unknown) => {
        if (loading?.promise === promise) loading = null
        throw error
      },
    )
    loading = { since, promise }
    return promise
  }

  const fresh = (): SessionsSnapshot | null =>
    snapshot && (freshness.exact || now() - snapshot.loadedAt < freshness.maxAgeMs) ? snapshot : null

  const current = (): SessionsSnapshot | Promise<SessionsSnapshot> => fresh() ?? load()

  return {
    create: (record) => writing(drop, () => inner.create(record)),
    update: (id, patch) => writing(drop, () => inner.update(id, patch)),
    delete: (id) => writing(drop, () => inner.delete(id)),
    async list() {
      return (await current()).list
    },
    async get(id, options) {
      if (options?.fresh) return inner.get(id)
      const found = (await current()).byId.get(id)
      if (found || freshness.exact) return found ?? null
      // Bounded: created by another API instance since the list was read, or not there at all.
      return inner.get(id)
    },
    invalidate: drop,
    peekList: () => fresh()?.list,
    peek(id) {
      const known = fresh()
      if (!known) return undefined
      return known.byId.get(id) ?? (freshness.exact ? null : undefined)
    },
  }
}

// ── statuses and viewers ─────────────────────────────────────────────────────────────────────

type ActiveStatus = StatusRecord & { viewerCount: number }

interface ActiveList {
  list: ActiveStatus[]
  /** The session's change version it was read at (bounded mode; 0 in exact mode). */
  version: number
  /** The `now` it answers for; any later `now` before `nextExpiry` gets the same list. */
  asOf: number
  nextExpiry: number
  /** The write sequence when its read began (exact mode; see `addRecorded`). */
  since: number
}

interface ViewerList {
  sessionId: string
  version: number
  viewers: ViewerRecord[] | null
  /** The write sequence when its read began (exact mode; see `addRecorded`). */
  since: number
}

const sessionScope = (sessionId: string) => `s\u0000${sessionId}`
const viewersKey = (sessionId: string, statusId: string) => `${sessionId}\u0000${statusId}`

/**
 * Each session's active statuses (with their viewer counts) and its statuses' viewer lists. One
 * scope per session: any write to its statuses or viewers drops both, since a status delete takes
 * its viewers along and a new viewer changes a count in the status list.
 *
 * Exact mode trusts its own write log. Bounded mode cannot (connectors write), so a list is served
 * from memory only while the session's change version (one indexed row, asked for at most every
 * `maxAgeMs`) is the one read just before the list was.
 */
const activityReadModel = (
  innerStatuses: StatusesRepo,
  innerViewers: ViewersRepo,
  writes: WriteLog,
  options: { maxViewerRows: number } & (
    | { versioned: false }
    | { versioned: true; maxAgeMs: number; clock: () => number }
  ),
): { statuses: StatusesRepo; viewers: ViewersRepo } => {
  const statusLists = new Map<string, ActiveList>()
  // Insertion order is recency order (a hit moves to the back), so the front is evicted first.
  const viewerLists = new Map<string, ViewerList>()
  let viewerRows = 0
  const rowsOf = (entry: ViewerList) => Math.max(1, entry.viewers?.length ?? 0)
  const removeViewers = (key: string) => {
    const entry = viewerLists.get(key)
    if (!entry) return
    viewerRows -= rowsOf(entry)
    viewerLists.delete(key)
  }

  /** Bounded mode: each session's change version as last read, and when (before the query). */
  const versions = new Map<string, { version: number; at: number }>()

  /** The session's change version, if one read within `maxAgeMs` may stand for it now (0 in exact mode). */
  const recentVersion = (sessionId: string): number | undefined => {
    if (!options.versioned) return 0
    const seen = versions.get(sessionId)
    return seen && options.clock() - seen.at < options.maxAgeMs ? seen.version : undefined
  }

  /** Asks the database for the session's change version, and notes it for `maxAgeMs`. */
  const readVersion = async (sessionId: string): Promise<number> => {
    if (!options.versioned) return 0
    const at = options.clock()
    const since = writes.now
    const version = await innerStatuses.changeVersion(sessionId)
    // A write of this process that began meanwhile may be past it: asked again next time.
    if (writes.unchangedSince(sessionScope(sessionId), since)) versions.set(sessionId, { version, at })
    return version
  }

  const drop = (sessionId: string) => {
    writes.touch(sessionScope(sessionId))
    versions.delete(sessionId)
    statusLists.delete(sessionId)
    for (const [key, entry] of viewerLists) if (entry.sessionId === sessionId) removeViewers(key)
  }
  const dropAll = () => {
    writes.touchAll()
    versions.clear()
    statusLists.clear()
    viewerLists.clear()
    viewerRows = 0
  }

  /**
   * Reads with `load` and says whether the result may be kept: no write of this process to the
   * session started meanwhile. In bounded mode the result is kept under the version read before
   * `load`: a change that slipped in while it ran moved the version past it, so the next read
   * finds the entry stale and reads again.
   */
  const readConsistent = async <T>(sessionId: string, load: () => Promise<T>) => {
    const since = writes.now
    const value = await load()
    return { value, since, keep: writes.unchangedSince(sessionScope(sessionId), since) }
  }

  const keepStatuses = (
    sessionId: string,
    version: number,
    asOf: number,
    list: ActiveStatus[],
    since: number,
  ) => {
    const frozen = freezeAll(list)
    let nextExpiry = Number.POSITIVE_INFINITY
    for (const status of frozen) nextExpiry = Math.min(nextExpiry, status.expiresAt)
    statusLists.set(sessionId, { list: frozen, version, asOf, nextExpiry, since })
    return frozen
  }

  const keepViewers = (key: string, entry: ViewerList) => {
    removeViewers(key)
    viewerLists.set(key, entry)
    viewerRows += rowsOf(entry)
    for (const [oldest] of viewerLists) {
      if (viewerRows <= options.maxViewerRows || oldest === key) break
      removeViewers(oldest)
    }
  }

  const statuses: StatusesRepo = {
    get: (sessionId, id) => innerStatuses.get(sessionId, id),
    getByWaMessageId: (sessionId, waMessageId) => innerStatuses.getByWaMessageId(sessionId, waMessageId),
    isMediaReferenced: (filename) => innerStatuses.isMediaReferenced(filename),
    changeVersion: (sessionId) => innerStatuses.changeVersion(sessionId),
    stats: () => innerStatuses.stats(),
    // A command's effects are another process's writes: every version is asked for again.
    invalidate: () => versions.clear(),
    insert: (status) =>
      writing(
        () => drop(status.sessionId),
        () => innerStatuses.insert(status),
      ),
    update: (sessionId, id, patch) =>
      writing(
        () => drop(sessionId),
        () => innerStatuses.update(sessionId, id, patch),
      ),
    delete: (sessionId, id) =>
      writing(
        () => drop(sessionId),
        () => innerStatuses.delete(sessionId, id),
      ),
    deleteAllForSession: (sessionId) =>
      writing(
        () => drop(sessionId),
        () => innerStatuses.deleteAllForSession(sessionId),
      ),
    deleteExpired: (now, options) => writing(dropAll, () => innerStatuses.deleteExpired(now, options)),
    pruneArchive: (before) => innerStatuses.pruneArchive(before),
    failStalePending: (before, error) =>
      writing(dropAll, () => innerStatuses.failStalePending(before, error)),

    async listActive(sessionId, now) {
      // Without waiting when the version is known (always in exact mode, whose own write log is
      // the version): a read then begins at once, before any write that comes after it.
      const version = recentVersion(sessionId) ?? (await readVersion(sessionId))
      const cached = statusLists.get(sessionId)
      if (cached && cached.version === version && now >= cached.asOf) {
        if (now < cached.nextExpiry) return cached.list
        // Some expired since it was read; the rest is still current (a new status drops the list).
        return keepStatuses(
          sessionId,
          version,
          now,
          cached.list.filter((status) => status.expiresAt > now),
          cached.since,
        )
      }
      const { value, since, keep } = await readConsistent(sessionId, () =>
        innerStatuses.listActive(sessionId, now),
      )
      return keep ? keepStatuses(sessionId, version, now, value, since) : value
    },

    peekActive(sessionId, now) {
      const version = recentVersion(sessionId)
      if (version === undefined) return undefined
      const cached = statusLists.get(sessionId)
      return cached && cached.version === version && now >= cached.asOf && now < cached.nextExpiry
        ? cached.list
        : undefined
    },
  }

  /**
   * Exact mode: the rows a viewer write inserted, added to the lists in memory that they belong
   * to, instead of dropping those lists. During a burst of receipts the lists are read after every
   * batch, and reading back thousands of rows costs far more than the batch itself. Only lists
   * read before the write began are added to: one read while it ran (kept when it finished before
   * the write's end was noted) may already hold some of its rows, and is dropped instead.
   */
  const addRecorded = (fresh: readonly ViewerRecord[], writeBegan: number) => {
    const since = writes.now
    const byStatus = new Map<string, ViewerRecord[]>()
    for (const record of fresh) {
      const key = viewersKey(record.sessionId, record.statusId)
      const list = byStatus.get(key)
      const copy = Object.freeze({ ...record })
      if (list) list.push(copy)
      else byStatus.set(key, [copy])
    }
    const counts = new Map<string, Map<string, number>>()
    for (const [key, added] of byStatus) {
      const { sessionId, statusId } = added[0] as ViewerRecord
      let perStatus = counts.get(sessionId)
      if (!perStatus) {
        perStatus = new Map()
        counts.set(sessionId, perStatus)
      }
      perStatus.set(statusId, added.length)
      const entry = viewerLists.get(key)
      if (!entry) continue
      // `viewers` null: the status was not there when the list was read (and an insert since
      // would have dropped it).
      if (!entry.viewers || entry.since >= writeBegan) {
        removeViewers(key)
        continue
      }
      viewerRows -= rowsOf(entry)
      entry.viewers = Object.freeze(mergeByViewOrder(entry.viewers, added)) as ViewerRecord[]
      entry.since = since
      viewerRows += rowsOf(entry)
    }
    for (const [oldest] of viewerLists) {
      if (viewerRows <= options.maxViewerRows) break
      removeViewers(oldest)
    }
    for (const [sessionId, perStatus] of counts) {
      const cached = statusLists.get(sessionId)
      if (!cached) continue
      if (cached.since >= writeBegan) {
        statusLists.delete(sessionId)
        continue
      }
      const list = cached.list.map((status) => {
        const added = perStatus.get(status.id)
        return added ? { ...status, viewerCount: status.viewerCount + added } : status
      })
      keepStatuses(sessionId, cached.version, cached.asOf, list, since)
    }
  }

  const viewers: ViewersRepo = {
    async recordMany(views) {
      const sessions = new Set(views.map((view) => view.sessionId))
      const dropAffected = () => {
        for (const sessionId of sessions) drop(sessionId)
      }
      if (options.versioned) return writing(dropAffected, () => innerViewers.recordMany(views))
      // Reads started before or during the write may not keep what they read; what is in memory
      // stays as it was until the write is done, then gains exactly the rows it inserted.
      const touch = () => {
        for (const sessionId of sessions) writes.touch(sessionScope(sessionId))
      }
      touch()
      const writeBegan = writes.now
      let fresh: ViewerRecord[]
      try {
        fresh = await innerViewers.recordMany(views)
      } catch (error) {
        // Part of it may have been written.
        dropAffected()
        throw error
      }
      touch()
      addRecorded(fresh, writeBegan)
      return fresh
    },
    listPage: (sessionId, statusId, afterJid, limit) =>
      innerViewers.listPage(sessionId, statusId, afterJid, limit),
    count: () => innerViewers.count(),

    async list(sessionId, statusId) {
      return (await viewers.listForStatus(sessionId, statusId)) ?? []
    },

    async listForStatus(sessionId, statusId) {
      const version = recentVersion(sessionId) ?? (await readVersion(sessionId))
      const key = viewersKey(sessionId, statusId)
      const cached = viewerLists.get(key)
      if (cached && cached.version === version) {
        viewerLists.delete(key)
        viewerLists.set(key, cached)
        return cached.viewers
      }
      const { value, since, keep } = await readConsistent(sessionId, () =>
        innerViewers.listForStatus(sessionId, statusId),
      )
      if (!keep) return value
      const list = value && freezeAll(value)
      keepViewers(key, { sessionId, version, viewers: list, since })
      return list
    },

    peekForStatus(sessionId, statusId) {
      const version = recentVersion(sessionId)
      if (version === undefined) return undefined
      const key = viewersKey(sessionId, statusId)
      const cached = viewerLists.get(key)
      if (!cached || cached.version !== version) return undefined
      viewerLists.delete(key)
      viewerLists.set(key, cached)
      return cached.viewers
    },
  }

  return { statuses, viewers }
}

/** A new array: `list` (in view order) with `added` merged in; appended when it comes after, as usual. */
const mergeByViewOrder = (list: readonly ViewerRecord[], added: ViewerRecord[]): ViewerRecord[] => {
  added.sort(byViewOrder)
  const last = list.at(-1)
  if (!last || byViewOrder(last, added[0] as ViewerRecord) <= 0) return list.concat(added)
  return mergeSorted(list, added, byViewOrder)
}

/** The repositories with a read model in front (see the top of this file). */
export const withReadModel = (repos: Repositories, options: ReadModelOptions): Repositories => {
  const writes = new WriteLog()
  const exact = options.consistency === 'exact'
  const maxViewerRows = options.maxCachedViewers ?? DEFAULT_MAX_CACHED_VIEWERS
  return {
    ...repos,
    sessions: exact
      ? sessionsReadModel(repos.sessions, writes, { exact: true })
      : sessionsReadModel(repos.sessions, writes, {
          exact: false,
          maxAgeMs: options.maxAgeMs,
          clock: options.clock ?? Date.now,
        }),
    ...activityReadModel(
      repos.statuses,
      repos.viewers,
      writes,
      exact
        ? { versioned: false, maxViewerRows }
        : { versioned: true, maxAgeMs: options.maxAgeMs, clock: options.clock ?? Date.now, maxViewerRows },
    ),
  }
}
