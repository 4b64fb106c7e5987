import { describe, expect, it } from 'vitest'
import { FixedWindowRateLimiter, MemoryRateLimiter } from './rate-limit.js'

describe('FixedWindowRateLimiter', () => {
  it('allows max hits per window per key, then resets', () => {
    let now = 0
    const limiter = new FixedWindowRateLimiter({ max: 2, windowMs: 1000, clock: () => now })
    expect(limiter.hit('a')).toMatchObject({ allowed: true, remaining: 1, resetAt: 1000 })
    expect(limiter.hit('a').allowed).toBe(true)
    expect(limiter.hit('a')).toMatchObject({ allowed: false, remaining: 0 })
    expect(limiter.hit('b').allowed).toBe(true)
    now = 1000
    expect(limiter.hit('a')).toMatchObject({ allowed: true, remaining: 1, resetAt: 2000 })
  })

  it('keeps memory bounded under many distinct clients', () => {
    let now = 0
    const limiter = new FixedWindowRateLimiter({ max: 5, windowMs: 60_000, clock: () => now, maxKeys: 100 })
    for (let i = 0; i < 10_000; i++) {
      now += 1
      limiter.hit(`client-${i}`)
    }
    expect(limiter.size).toBeLessThanOrEqual(100)
    // The newest clients are still counted.
    limiter.hit('client-9999')
    expect(limiter.hit('client-9999').remaining).toBe(2)
  })

  it('drops expired windows as new clients arrive', () => {
    let now = 0
    const limiter = new FixedWindowRateLimiter({ max: 5, windowMs: 10, clock: () => now, maxKeys: 1000 })
    for (let i = 0; i < 50; i++) limiter.hit(`old-${i}`)
    now = 100
    limiter.hit('new')
    expect(limiter.size).toBe(1)
  })
})

describe('MemoryRateLimiter', () => {
  it('keeps a separate budget per bucket for the same client', () => {
    const limiter = new MemoryRateLimiter({
      limits: { keyed: 3, anonymous: 1 },
      windowMs: 1000,
      clock: () => 0,
    })
    expect(limiter.hit('anonymous', '203.0.113.1')).toMatchObject({ allowed: true, limit: 1, remaining: 0 })
    expect(limiter.hit('anonymous', '203.0.113.1').allowed).toBe(false)
    expect(limiter.hit('keyed', '203.0.113.1')).toMatchObject({ allowed: true, limit: 3, remaining: 2 })
    expect(limiter.hit('anonymous', '203.0.113.2').allowed).toBe(true)
  })

  it('stays bounded in memory across both buckets', () => {
    let now = 0
    const limiter = new MemoryRateLimiter({
      limits: { keyed: 5, anonymous: 5 },
      windowMs: 60_000,
      clock: () => now,
      maxKeys: 50,
    })
    for (let i = 0; i < 5_000; i++) {
      now += 1
      limiter.hit(i % 2 === 0 ? 'keyed' : 'anonymous', `client-${i}`)
    }
    expect(limiter.size).toBeLessThanOrEqual(100)
  })
})
