import type { Logger } from 'pino'
import type { EventPublisher } from '../shared/bus/types.js'
import type { Repositories, SessionPatch, SessionRecord } from '../shared/db/types.js'
import type { ServerEvents } from '../shared/events.js'
import type { SessionState } from '../shared/schemas.js'

/**
 * A session's link state as the rest of the product sees it: the sessions row (read by the API)
 * and the events clients get. Storage or event failures are logged, never thrown: a hiccup there
 * must not break the WhatsApp connection itself.
 */
export class SessionStatus {
  state: SessionState = 'created'
  /** The last known row; patches are applied to it even when the write failed. */
  record: SessionRecord | null = null

  constructor(
    private readonly deps: { sessionId: string; repos: Repositories; events: EventPublisher; log: Logger },
  ) {}

  async set(state: SessionState, patch: SessionPatch = {}): Promise<void> {
    this.state = state
    const full = { ...patch, state }
    if (this.record) this.record = { ...this.record, ...full }
    try {
      const updated = await this.deps.repos.sessions.update(this.deps.sessionId, full)
      if (updated) this.record = updated
    } catch (error) {
      this.deps.log.error({ err: error }, 'storing the session state failed')
    }
  }

  /** `connection-status` for the current state. */
  announce(error?: string): Promise<void> {
    return this.publish('connection-status', {
      sessionId: this.deps.sessionId,
      connected: this.state === 'open',
      status: this.state,
      ownNumber: this.record?.ownNumber ?? null,
      ...(error ? { error } : {}),
    })
  }

  async publish<E extends keyof ServerEvents>(event: E, payload: ServerEvents[E]): Promise<void> {
    try {
      // The map ties each event to its payload; the generic pair is one member of the union.
      await this.deps.events.publish({ event, payload } as never)
    } catch (error) {
      this.deps.log.error({ err: error, event }, 'publishing an event failed')
    }
  }
}
