import { afterEach, describe, expect, it, vi } from 'vitest'
import { LoginPacer } from './login-pacer.js'

afterEach(() => {
  vi.useRealTimers()
})

/** Grant times (fake clock, ms) of `count` logins queued at once. */
const grantTimes = async (pacer: LoginPacer, count: number, clock: () => number) => {
  const times: number[] = []
  const slots = Array.from({ length: count }, () => pacer.acquire())
  for (const slot of slots) void slot.granted.then(() => times.push(clock()))
  return { slots, times }
}

describe('LoginPacer', () => {
  it('grants the first login at once and the rest at even intervals, never more than the rate', async () => {
    vi.useFakeTimers()
    const pacer = new LoginPacer(20, { now: () => Date.now() })
    const start = Date.now()
    const { times } = await grantTimes(pacer, 50, () => Date.now() - start)
    await vi.advanceTimersByTimeAsync(0)
    expect(times).toEqual([0])
    await vi.advanceTimersByTimeAsync(1_000)
    // 0, 50, …, 1000 ms: 20 per second.
    expect(times).toEqual(Array.from({ length: 21 }, (_, i) => i * 50))
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= (times[i] as number) && t < (times[i] as number) + 1_000)
      expect(inWindow.length).toBeLessThanOrEqual(20)
    }
    expect(pacer.waiting).toBe(29)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(times).toHaveLength(50)
    expect(pacer.waiting).toBe(0)
  })

  it('arms no timer while nobody waits, and grants a lone login at once after a pause', async () => {
    vi.useFakeTimers()
    const pacer = new LoginPacer(10, { now: () => Date.now() })
    await expect(pacer.acquire().granted).resolves.toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    const second = pacer.acquire()
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    await expect(second.granted).resolves.toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(5_000)
    const later = pacer.acquire()
    await vi.advanceTimersByTimeAsync(0)
    await expect(later.granted).resolves.toBe(true)
  })

  it('lets a waiter cancel or jump the queue', async () => {
    vi.useFakeTimers()
    const pacer = new LoginPacer(10, { now: () => Date.now() })
    const order: string[] = []
    const slots = ['a', 'b', 'c', 'd'].map((name) => {
      const slot = pacer.acquire()
      void slot.granted.then((granted) => order.push(`${name}:${granted}`))
      return slot
    })
    slots[1]?.cancel()
    slots[3]?.hurry()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(order).toEqual(['a:true', 'b:false', 'd:true', 'c:true'])
    // Settled slots ignore late calls.
    slots[0]?.cancel()
    slots[0]?.hurry()
    expect(pacer.waiting).toBe(0)
  })

  it('probes one login at a time while WhatsApp is unreachable, and speeds up once one gets through', async () => {
    vi.useFakeTimers()
    const pacer = new LoginPacer(20, { unreachableIntervalMs: 1_000, now: () => Date.now() })
    const start = Date.now()
    const { times } = await grantTimes(pacer, 30, () => Date.now() - start)
    await vi.advanceTimersByTimeAsync(0)
    expect(times).toEqual([0])
    // The first login found nobody listening.
    pacer.reportUnreachable()
    expect(pacer.probing).toBe(true)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(times).toEqual([0, 1_000, 2_000, 3_000])
    // The probe at 3 s connected: the queue drains at 20 per second from there.
    pacer.reportReachable()
    await vi.advanceTimersByTimeAsync(200)
    expect(times).toEqual([0, 1_000, 2_000, 3_000, 3_050, 3_100, 3_150, 3_200])
    expect(pacer.probing).toBe(false)
    pacer.close()
  })

  it('close cancels every wait', async () => {
    const pacer = new LoginPacer(1)
    pacer.acquire()
    const waiting = [pacer.acquire(), pacer.acquire()]
    pacer.close()
    await expect(Promise.all(waiting.map((slot) => slot.granted))).resolves.toEqual([false, false])
  })
})
