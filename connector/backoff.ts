/**
 * Reconnect delays: exponential with a cap and jitter, so a WhatsApp outage does not make every
 * session reconnect in lock-step. `reset()` on a successful open starts the sequence over.
 */
export interface BackoffOptions {
  baseMs: number
  maxMs: number
  /** Fraction of the delay added or removed at random (0.2 → ±20 %). */
  jitter: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 }

/** The delay after `failures` earlier failures (0 → about `baseMs`), capped, with jitter. */
export const backoffDelay = (
  failures: number,
  options: BackoffOptions,
  random: () => number = Math.random,
) => {
  const { baseMs, maxMs, jitter } = options
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30))
  const spread = raw * jitter * (random() * 2 - 1)
  return Math.max(0, Math.round(raw + spread))
}

export class Backoff {
  private attempt = 0

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  get attempts(): number {
    return this.attempt
  }

  /** The delay before the next attempt; each call counts as one more attempt. */
  next(): number {
    return backoffDelay(this.attempt++, this.options, this.random)
  }

  reset(): void {
    this.attempt = 0
  }
}
