/**
 * Status ids are millisecond timestamps as strings ("1704067200000"), the format the API documents.
 * Several statuses can be created in the same millisecond, so the ids one process hands out only
 * move forward: the next id is the current time or one past the last id, whichever is larger.
 * Another process can still pick the same id; the insert detects that and calls `skipPast`.
 */
export interface StatusIdClock {
  next(): number
  /** Makes every later id larger than `id`. */
  skipPast(id: number): void
}

export function createStatusIdClock(now: () => number = Date.now): StatusIdClock {
  let last = 0
  return {
    next() {
      last = Math.max(now(), last + 1)
      return last
    },
    skipPast(id) {
      last = Math.max(last, id)
    },
  }
}
