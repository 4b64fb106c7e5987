import { appError } from '../../shared/errors.js'

/**
 * Pages of lists that grow: `limit` items after an opaque `cursor`, the position (a time and an
 * id) of the last item of the previous page. Positions, not offsets: an item added or removed
 * while a client pages neither repeats nor skips another.
 */
export interface PageRequest {
  limit: number
  cursor?: string | undefined
}

export interface Page<T> {
  items: T[]
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null
}

export type Position = [time: number, id: string]

export const encodeCursor = ([time, id]: Position): string =>
  btoa(JSON.stringify([time, id]))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

export const decodeCursor = (cursor: string): Position => {
  try {
    const parsed: unknown = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')))
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      Number.isSafeInteger(parsed[0]) &&
      typeof parsed[1] === 'string'
    ) {
      return parsed as Position
    }
  } catch {
    // below
  }
  throw appError('invalidCursor')
}

/**
 * The page of `sorted` (ordered by `position`, ascending or descending as `direction` says) that
 * follows `request.cursor`.
 */
export const pageOf = <T>(
  sorted: readonly T[],
  position: (item: T) => Position,
  direction: 'ascending' | 'descending',
  request: PageRequest,
): Page<T> => {
  let start = 0
  if (request.cursor !== undefined) {
    const [time, id] = decodeCursor(request.cursor)
    const sign = direction === 'ascending' ? 1 : -1
    // The first item past the cursor's position in the list's own order.
    start = sorted.findIndex((item) => {
      const [t, i] = position(item)
      const order = t !== time ? t - time : i < id ? -1 : i > id ? 1 : 0
      return order * sign > 0
    })
    if (start < 0) start = sorted.length
  }
  const items = sorted.slice(start, start + request.limit)
  const last = items.at(-1)
  const more = start + items.length < sorted.length
  return { items, nextCursor: more && last !== undefined ? encodeCursor(position(last)) : null }
}
