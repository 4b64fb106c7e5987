/**
 * Runs one session's commands in the order they arrived: concurrent ones (sends, pairing-code
 * requests) side by side, exclusive ones (start, restart, stop, delete) alone — each waits for
 * everything before it, and nothing after it starts until it is done.
 */
export class SessionLane {
  private readonly waiting: { exclusive: boolean; run: () => Promise<void> }[] = []
  private running = 0
  private exclusiveRunning = false
  private readonly idleWaiters: (() => void)[] = []

  /** `onIdle` runs each time the lane empties (the owner may drop it then). */
  constructor(private readonly onIdle: () => void = () => {}) {}

  get busy(): boolean {
    return this.running > 0 || this.waiting.length > 0
  }

  push(exclusive: boolean, run: () => Promise<void>): void {
    this.waiting.push({ exclusive, run })
    this.pump()
  }

  /** Resolves once nothing is waiting or running. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    while (this.waiting.length && !this.exclusiveRunning) {
      const next = this.waiting[0]
      if (!next) break
      if (next.exclusive && this.running > 0) break
      this.waiting.shift()
      this.running++
      if (next.exclusive) this.exclusiveRunning = true
      void next
        .run()
        .catch(() => {})
        .finally(() => {
          this.running--
          if (next.exclusive) this.exclusiveRunning = false
          this.pump()
          if (!this.busy) {
            for (const resolve of this.idleWaiters.splice(0)) resolve()
            this.onIdle()
          }
        })
    }
  }
}
