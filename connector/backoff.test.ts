import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.js'

describe('Backoff', () => {
  it('doubles from the base up to the cap and starts over after reset', () => {
    const backoff = new Backoff({ baseMs: 1_000, maxMs: 60_000, jitter: 0 })
    const delays = Array.from({ length: 8 }, () => backoff.next())
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000])
    backoff.reset()
    expect(backoff.next()).toBe(1_000)
  })

  it('spreads each delay by at most the jitter fraction', () => {
    const low = new Backoff({ baseMs: 1_000, maxMs: 60_000, jitter: 0.2 }, () => 0)
    const high = new Backoff({ baseMs: 1_000, maxMs: 60_000, jitter: 0.2 }, () => 0.999_999)
    expect(low.next()).toBe(800)
    expect(high.next()).toBe(1_200)
  })
})
