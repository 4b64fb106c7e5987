import type { ViewerRecord } from '../shared/db/types.js'
import { toViewer } from '../shared/presenters.js'
import type { Viewer } from '../shared/schemas.js'
import { mergeSorted } from '../shared/sorted-merge.js'
import { LruMap } from './lru.js'

export { toViewer }

/** The order `ViewersRepo.list` returns: first view first, then by JID. ISO times sort as text. */
const byViewTime = (a: Viewer, b: Viewer): number =>
  a.viewedAt < b.viewedAt ? -1 : a.viewedAt > b.viewedAt ? 1 : a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0

interface CachedList {
  /** Sorted by `byViewTime`; grows in place, so callers only ever get copies. */
  viewers: Viewer[]
  jids: Set<string>
}

/**
 * Full viewer lists of the statuses being viewed right now, so each live update does not re-read
 * (and re-decode) every viewer from the database: a burst of views would otherwise spend most of
 * its time reading lists back. Lists only grow by the rows this connector inserted (it is the only
 * writer for its sessions) and are dropped when their status is deleted. Memory is capped by the
 * total number of viewers held; the least recently viewed statuses go first.
 */
export class ViewerListCache {
  private readonly lists: LruMap<string, CachedList>
  private total = 0

  constructor(
    private readonly maxViewers = 200_000,
    maxStatuses = 1_000,
  ) {
    this.lists = new LruMap(maxStatuses)
  }

  /**
   * A copy of the cached list with `added` merged in, or null when the status is not cached.
   * `added` itself is left as it is.
   */
  extend(key: string, added: readonly Viewer[]): Viewer[] | null {
    const cached = this.lists.get(key)
    if (!cached) return null
    // A list read from the database may already hold rows written while it was being read.
    const fresh = added.filter((viewer) => !cached.jids.has(viewer.jid))
    if (fresh.length) {
      // Usually sorted already (receipts come in view order), which the sort checks in one pass.
      fresh.sort(byViewTime)
      for (const viewer of fresh) cached.jids.add(viewer.jid)
      appendSorted(cached, fresh)
      this.total += fresh.length
      this.trim(key)
    }
    return cached.viewers.slice()
  }

  /** Caches a list read from the database; returns a copy of it. */
  fill(key: string, records: ViewerRecord[]): Viewer[] {
    const viewers = records.map(toViewer)
    const previous = this.lists.peek(key)
    if (previous) this.total -= previous.viewers.length
    this.lists.set(key, { viewers, jids: new Set(viewers.map((viewer) => viewer.jid)) })
    this.total += viewers.length
    // The LRU may have dropped its oldest list to make room for this one.
    if (this.lists.size >= this.lists.capacity) this.recount()
    this.trim(key)
    return viewers.slice()
  }

  forget(predicate: (key: string) => boolean): void {
    this.lists.deleteWhere(predicate)
    this.recount()
  }

  /** Trims to the viewer cap, least recently used first, never the list just stored. */
  private trim(keep: string): void {
    if (this.total <= this.maxViewers) return
    for (const victim of [...this.lists.keys()]) {
      if (this.total <= this.maxViewers) break
      if (victim === keep) continue
      this.total -= this.lists.peek(victim)?.viewers.length ?? 0
      this.lists.delete(victim)
    }
  }

  private recount(): void {
    let total = 0
    for (const list of this.lists.values()) total += list.viewers.length
    this.total = total
  }
}

/** Adds sorted `fresh` to the list: appended in place when it comes after (the usual case). */
const appendSorted = (list: CachedList, fresh: Viewer[]): void => {
  const last = list.viewers.at(-1)
  const first = fresh[0]
  if (!last || (first && byViewTime(last, first) <= 0)) {
    for (const viewer of fresh) list.viewers.push(viewer)
    return
  }
  list.viewers = mergeSorted(list.viewers, fresh, byViewTime)
}
