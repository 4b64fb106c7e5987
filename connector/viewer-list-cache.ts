import type { ViewerRecord } from '../shared/db/types.js'
import type { Viewer } from '../shared/schemas.js'
import { LruMap } from './lru.js'

export const toViewer = (record: ViewerRecord): Viewer => ({
  jid: record.jid,
  number: record.number,
  lid: record.lid,
  viewedAt: new Date(record.viewedAt).toISOString(),
  isReal: record.isReal,
})

/** The order `ViewersRepo.list` returns: first view first, then by JID. ISO times sort as text. */
const byViewTime = (a: Viewer, b: Viewer): number =>
  a.viewedAt < b.viewedAt ? -1 : a.viewedAt > b.viewedAt ? 1 : a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0

interface CachedList {
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

  /** The cached list with `added` merged in, or null when the status is not cached. */
  extend(key: string, added: ViewerRecord[]): Viewer[] | null {
    const cached = this.lists.get(key)
    if (!cached) return null
    // A list read from the database may already hold rows written while it was being read.
    const fresh = added
      .filter((record) => !cached.jids.has(record.jid))
      .map(toViewer)
      .sort(byViewTime)
    for (const viewer of fresh) cached.jids.add(viewer.jid)
    this.store(key, { viewers: mergeSorted(cached.viewers, fresh), jids: cached.jids })
    return this.lists.peek(key)?.viewers ?? null
  }

  /** Caches a list read from the database. */
  fill(key: string, records: ViewerRecord[]): Viewer[] {
    const viewers = records.map(toViewer)
    this.store(key, { viewers, jids: new Set(viewers.map((viewer) => viewer.jid)) })
    return viewers
  }

  forget(predicate: (key: string) => boolean): void {
    this.lists.deleteWhere(predicate)
    this.recount()
  }

  private store(key: string, list: CachedList): void {
    this.lists.set(key, list)
    this.recount()
    // Trim to the cap, least recently used first, never the list just stored.
    for (const victim of [...this.lists.keys()]) {
      if (this.total <= this.maxViewers) break
      if (victim === key) continue
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

const mergeSorted = (left: Viewer[], right: Viewer[]): Viewer[] => {
  if (!right.length) return left
  const last = left.at(-1)
  const first = right[0]
  if (!last || (first && byViewTime(last, first) <= 0)) return left.concat(right)
  const out: Viewer[] = []
  let i = 0
  let j = 0
  while (i < left.length && j < right.length) {
    const a = left[i] as Viewer
    const b = right[j] as Viewer
    if (byViewTime(a, b) <= 0) {
      out.push(a)
      i++
    } else {
      out.push(b)
      j++
    }
  }
  while (i < left.length) out.push(left[i++] as Viewer)
  while (j < right.length) out.push(right[j++] as Viewer)
  return out
}
