import { type AppError, appError } from '../shared/errors.js'

export interface PairingResult {
  pairingCode: string
  phoneNumber: string
}

/** How long a request-pairing-code command waits for a code before giving up (under its 30 s budget). */
const WAIT_TIMEOUT_MS = 25_000

/**
 * Tracks the pairing code a session is waiting for: the Baileys request in flight (made after a
 * socket's first QR) and the command waiting for its result. Either one means "in progress", which
 * is what makes a second request a 409 instead of a second code that invalidates the first.
 */
export class PairingRequests {
  private inFlight = 0
  private waiter: {
    resolve: (result: PairingResult) => void
    reject: (error: AppError) => void
    timer: NodeJS.Timeout
  } | null = null

  get inProgress(): boolean {
    return this.inFlight > 0 || this.waiter !== null
  }

  /** A promise for the next code this session gets, or the error that prevents one. */
  waitForCode(timeoutMs = WAIT_TIMEOUT_MS): Promise<PairingResult> {
    this.failAll(appError('cannotPairInTime'))
    return new Promise<PairingResult>((resolve, reject) => {
      const timer = setTimeout(() => this.failAll(appError('cannotPairInTime')), timeoutMs)
      timer.unref?.()
      this.waiter = { resolve, reject, timer }
    })
  }

  /** Counts a Baileys pairing request as in flight until it settles (it never rejects here). */
  track(request: Promise<void>): void {
    this.inFlight++
    void request
      .catch(() => {})
      .finally(() => {
        this.inFlight--
      })
  }

  succeed(result: PairingResult): void {
    const waiter = this.take()
    waiter?.resolve(result)
  }

  failAll(error: AppError): void {
    const waiter = this.take()
    waiter?.reject(error)
  }

  private take() {
    const waiter = this.waiter
    this.waiter = null
    if (waiter) clearTimeout(waiter.timer)
    return waiter
  }
}
