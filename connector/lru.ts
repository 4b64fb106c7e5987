/**
 * A Map that keeps at most `capacity` entries, dropping the least recently used one first.
 * Used wherever the connector remembers things per receipt or per command, so memory stays flat
 * however long the process runs.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>()

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new RangeError('LRU capacity must be at least 1')
  }

  get size(): number {
    return this.entries.size
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key)
    if (value === undefined) return undefined
    // Re-inserting moves the key to the back: Map keeps insertion order.
    this.entries.delete(key)
    this.entries.set(key, value)
    return value
  }

  /** Reads without refreshing the entry's place. */
  peek(key: K): V | undefined {
    return this.entries.get(key)
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.entries.keys()
  }

  values(): IterableIterator<V> {
    return this.entries.values()
  }

  has(key: K): boolean {
    return this.entries.has(key)
  }

  set(key: K, value: V): this {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
    return this
  }

  delete(key: K): boolean {
    return this.entries.delete(key)
  }

  /** Deletes every entry whose key matches; linear, meant for rare clean-ups. */
  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of [...this.entries.keys()]) if (predicate(key)) this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }
}
