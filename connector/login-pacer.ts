/**
 * Spaces out the logins a connector starts on its own (restoring sessions at start, adopting them
 * in split mode, reconnecting after a drop), so that a connector bringing up a thousand sessions, or
 * all of them reconnecting after an outage, never shows WhatsApp a burst of logins from one address.
 * Logins asked for by a user (start, restart, a pairing code) do not wait here.
 *
 * Slots are handed out first come, first served, at most `perSecond` per second and at even
 * intervals. One timer serves the whole queue and only while someone waits: an idle pacer costs
 * nothing.
 *
 * While WhatsApp cannot be reached (the last login never got a connection), slots come one per
 * `unreachableIntervalMs`: every session of the connector fails for the same reason, so one probe
 * at a time finds out when WhatsApp is back, instead of each session trying on its own backoff.
 * The first login that reaches WhatsApp brings the normal pace back, and the sessions that queued
 * up meanwhile log in at that pace.
 */
export interface LoginSlot {
  /** True when the slot is granted; false when the wait was cancelled. */
  readonly granted: Promise<boolean>
  /** Gives up the place in the queue (resolves `granted` with false); no-op once granted. */
  cancel(): void
  /** Moves to the front of the queue: somebody is waiting for this session. */
  hurry(): void
}

interface Waiter {
  resolve(granted: boolean): void
}

export interface LoginPacerOptions {
  /** Spacing of logins while WhatsApp is unreachable (default 1 s). */
  unreachableIntervalMs?: number
  now?: () => number
}

export class LoginPacer {
  private readonly intervalMs: number
  private readonly unreachableIntervalMs: number
  private readonly now: () => number
  private readonly queue: Waiter[] = []
  /** When the next slot may be granted. */
  private nextAt = Number.NEGATIVE_INFINITY
  private lastGrantAt = Number.NEGATIVE_INFINITY
  private unreachable = false
  private timer: NodeJS.Timeout | null = null

  constructor(perSecond: number, options: LoginPacerOptions = {}) {
    if (!(perSecond > 0)) throw new Error('perSecond must be positive')
    this.intervalMs = 1_000 / perSecond
    this.unreachableIntervalMs = Math.max(this.intervalMs, options.unreachableIntervalMs ?? 1_000)
    this.now = options.now ?? (() => performance.now())
  }

  /** Whether the last login found WhatsApp unreachable. */
  get probing(): boolean {
    return this.unreachable
  }

  /** Logins waiting for a slot. */
  get waiting(): number {
    return this.queue.length
  }

  acquire(): LoginSlot {
    let settled = false
    let resolveGranted: (granted: boolean) => void = () => {}
    const granted = new Promise<boolean>((resolve) => {
      resolveGranted = resolve
    })
    const waiter: Waiter = {
      resolve: (value) => {
        if (settled) return
        settled = true
        resolveGranted(value)
      },
    }
    if (!this.queue.length && this.now() >= this.nextAt) this.grant(waiter)
    else {
      this.queue.push(waiter)
      this.arm()
    }
    return {
      granted,
      cancel: () => {
        if (settled) return
        this.remove(waiter)
        waiter.resolve(false)
      },
      hurry: () => {
        if (settled || !this.remove(waiter)) return
        this.queue.unshift(waiter)
        this.arm()
      },
    }
  }

  /** A login could not connect to WhatsApp at all: slow down to one probe at a time. */
  reportUnreachable(): void {
    if (this.unreachable) return
    this.unreachable = true
    this.nextAt = Math.max(this.nextAt, this.lastGrantAt + this.unreachableIntervalMs)
    this.rearm()
  }

  /** A login connected to WhatsApp: back to the normal pace. */
  reportReachable(): void {
    if (!this.unreachable) return
    this.unreachable = false
    this.nextAt = this.lastGrantAt + this.intervalMs
    this.rearm()
  }

  /** Cancels every wait (shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    for (const waiter of this.queue.splice(0)) waiter.resolve(false)
  }

  private grant(waiter: Waiter): void {
    this.lastGrantAt = Math.max(this.now(), this.nextAt)
    this.nextAt = this.lastGrantAt + (this.unreachable ? this.unreachableIntervalMs : this.intervalMs)
    waiter.resolve(true)
  }

  /** The spacing changed: the armed timer may be due earlier or later now. */
  private rearm(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.arm()
  }

  private remove(waiter: Waiter): boolean {
    const index = this.queue.indexOf(waiter)
    if (index < 0) return false
    this.queue.splice(index, 1)
    return true
  }

  private arm(): void {
    if (this.timer || !this.queue.length) return
    this.timer = setTimeout(
      () => {
        this.timer = null
        // Timers run on the event loop's clock, whole milliseconds behind: never grant early.
        if (this.now() < this.nextAt) return this.arm()
        const next = this.queue.shift()
        if (next) this.grant(next)
        this.arm()
      },
      Math.max(0, this.nextAt - this.now()),
    )
    // Waiting logins alone do not keep a stopping process alive.
    this.timer.unref()
  }
}
