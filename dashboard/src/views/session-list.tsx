import type { SessionView } from '../../../shared/schemas.js'
import { formatDay, formatNumber } from '../format.js'
import { sessionHref } from '../hooks.js'
import { ErrorNote } from './error-note.js'
import { StateBadge } from './state-badge.js'

interface SessionListProps {
  sessions: SessionView[] | null
  selectedId: string | null
  error: string | null
}

export const SessionList = ({ sessions, selectedId, error }: SessionListProps) => (
  <div class="session-list">
    <div class="row-between">
      <h2>Sessions</h2>
      <a class="button primary small" href="#/new">
        New session
      </a>
    </div>
    <ErrorNote message={error} />
    {sessions === null && !error && <p class="muted">Loading…</p>}
    {sessions?.length === 0 && <p class="muted">No sessions yet. Link a WhatsApp account to begin.</p>}
    <ul>
      {sessions?.map((session) => (
        <li key={session.sessionId}>
          <a
            class={`session-item${session.sessionId === selectedId ? ' selected' : ''}`}
            href={sessionHref(session.sessionId)}
            aria-current={session.sessionId === selectedId ? 'page' : undefined}
            data-session={session.sessionId}
          >
            <span class="session-name">{session.sessionName}</span>
            <StateBadge session={session} />
            <span class="muted small">
              {session.sessionId} · {formatNumber(session.ownNumber ?? session.phoneNumber)}
            </span>
            <span class="muted small">
              created {formatDay(session.createdAt)}
              {session.connectorId && <> · on {session.connectorId}</>}
            </span>
          </a>
        </li>
      ))}
    </ul>
  </div>
)
