import type { StatusRecord, ViewerRecord } from '../../shared/db/types.js'
import { parseTargetNumbers } from '../../shared/schemas.js'
import { iso } from './views.js'

/** Bucket sizes `?bucket=` accepts for views over time. */
export const BUCKETS = { '5m': 5 * 60_000, '1h': 3_600_000 } as const
export type BucketName = keyof typeof BUCKETS

export interface StatusAnalytics {
  statusId: string
  sentAt: string
  expiresAt: string
  /** The numbers the status was sent to, the account's own excluded. */
  audienceSize: number
  /** Viewers, the account's own devices excluded; LID-only viewers included. */
  viewerCount: number
  /** viewerCount ÷ audienceSize in percent (one decimal), null without an audience. */
  reachPercent: number | null
  /** Audience numbers with no view yet, in the order they were given. */
  notViewed: string[]
  /** Viewers known only by their LID: they count, but cannot be matched to an audience number. */
  unresolvedViewers: number
  viewsOverTime: { bucket: BucketName; points: { start: string; views: number; total: number }[] }
}

/**
 * Reach and timing of one status from its row and its viewers (first view each). Buckets run from
 * the one the status was sent in to the one of its last view; empty ones are included, so a chart
 * needs no gap filling.
 */
export const statusAnalytics = (
  status: StatusRecord,
  viewers: readonly ViewerRecord[],
  ownNumber: string | null,
  bucket: BucketName,
): StatusAnalytics => {
  const audience = parseTargetNumbers(status.targetNumbers).filter((number) => number !== ownNumber)
  const counted = viewers.filter((viewer) => viewer.number === null || viewer.number !== ownNumber)
  const seen = new Set(counted.map((viewer) => viewer.number))
  const size = BUCKETS[bucket]
  const first = Math.floor(status.createdAt / size) * size
  const counts = new Map<number, number>()
  let lastBucket = first
  for (const viewer of counted) {
    const start = Math.max(first, Math.floor(viewer.viewedAt / size) * size)
    counts.set(start, (counts.get(start) ?? 0) + 1)
    if (start > lastBucket) lastBucket = start
  }
  const points: StatusAnalytics['viewsOverTime']['points'] = []
  let total = 0
  for (let start = first; start <= lastBucket; start += size) {
    const views = counts.get(start) ?? 0
    total += views
    points.push({ start: iso(start), views, total })
  }
  return {
    statusId: status.id,
    sentAt: iso(status.createdAt),
    expiresAt: iso(status.expiresAt),
    audienceSize: audience.length,
    viewerCount: counted.length,
    reachPercent: audience.length ? Math.round((counted.length / audience.length) * 1000) / 10 : null,
    notViewed: audience.filter((number) => !seen.has(number)),
    unresolvedViewers: counted.filter((viewer) => viewer.number === null).length,
    viewsOverTime: { bucket, points },
  }
}

const CSV_HEADER = 'number,lid,jid,viewedAt\r\n'
const CSV_ROWS_PER_CHUNK = 500

const csvCell = (value: string | null) => {
  const text = value ?? ''
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/**
 * The viewers as CSV (RFC 4180: a header line, CRLF, quoted where needed), produced as the client
 * reads it, a few hundred rows at a time: a large list is never one string in memory.
 */
export const viewersCsvStream = (viewers: readonly ViewerRecord[]): ReadableStream<Uint8Array> => {
  const encoder = new TextEncoder()
  let next = -1
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < 0) {
        next = 0
        return controller.enqueue(encoder.encode(CSV_HEADER))
      }
      if (next >= viewers.length) return controller.close()
      let chunk = ''
      for (const end = Math.min(viewers.length, next + CSV_ROWS_PER_CHUNK); next < end; next++) {
        const viewer = viewers[next]!
        chunk += `${[viewer.number, viewer.lid, viewer.jid, iso(viewer.viewedAt)].map(csvCell).join(',')}\r\n`
      }
      controller.enqueue(encoder.encode(chunk))
    },
  })
}
