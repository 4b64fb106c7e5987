import { useCallback, useEffect, useState } from 'preact/hooks'
import type { SessionView, StatusView } from '../../../shared/schemas.js'
import type { Api } from '../api.js'
import { formatAgo, formatLeft, formatTime, reachPercent } from '../format.js'
import { statusHref, useNow } from '../hooks.js'
import type { Live } from '../live.js'
import { ConfirmButton } from './confirm-button.js'
import { ErrorNote } from './error-note.js'
import { StatusPreview } from './status-preview.js'

/** The session's statuses of the last 24 hours, newest first, viewer counts updating live. */
interface StatusListProps {
  api: Api
  live: Live
  session: SessionView
  /** Changes after each send from this page: the list is read again. */
  sends: number
}

export const StatusList = ({ api, live, session, sends }: StatusListProps) => {
  const [statuses, setStatuses] = useState<StatusView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const now = useNow()
  const sessionId = session.sessionId

  const load = useCallback(() => {
    api
      .statuses(sessionId)
      .then((list) => {
        setStatuses([...list].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp)))
        setError(null)
      })
      .catch((e: Error) => setError(e.message))
  }, [api, sessionId])

  // `sends` is not read: it says when to read the list again.
  useEffect(() => load(), [load, sends])

  useEffect(() => {
    const mine =
      <T extends { sessionId: string }>(run: (payload: T) => void) =>
      (payload: T) => {
        if (payload.sessionId === sessionId) run(payload)
      }
    const stops = [
      live.onResync(load),
      live.on('status-sent', mine(load)),
      live.on('statuses-updated', mine(load)),
      live.on(
        'status-deleted',
        mine(({ statusId }) => setStatuses((list) => list?.filter((s) => s.id !== statusId) ?? list)),
      ),
      live.on(
        'status-viewers-update',
        mine(({ statusId, viewers }) =>
          setStatuses(
            (list) =>
              list?.map((s) =>
                s.id === statusId ? { ...s, viewerCount: Math.max(s.viewerCount, viewers.length) } : s,
              ) ?? list,
          ),
        ),
      ),
    ]
    return () => {
      for (const stop of stops) stop()
    }
  }, [live, load, sessionId])

  const remove = (statusId: string, forEveryone = false) =>
    api.deleteStatus(sessionId, statusId, forEveryone).then(
      () => setStatuses((list) => list?.filter((s) => s.id !== statusId) ?? list),
      (e: Error) => setError(e.message),
    )

  return (
    <section class="card" aria-labelledby="statuses-title">
      <h2 id="statuses-title">Statuses</h2>
      <ErrorNote message={error} />
      {statuses === null && !error && <p class="muted">Loading…</p>}
      {statuses?.length === 0 && <p class="muted">No status in the last 24 hours.</p>}
      <ul class="status-list">
        {statuses?.map((status) => {
          const reach = reachPercent(status.viewerCount, status.contactCount)
          return (
            <li key={status.id} class="status-item" data-status={status.id}>
              <StatusPreview api={api} status={status} />
              <div class="status-body">
                <div class="row-between">
                  <span class="badge badge-idle">{status.type}</span>
                  <span class="muted small" title={formatTime(status.timestamp)}>
                    {formatAgo(status.timestamp, now)} · {formatLeft(status.expiresAt, now)}
                  </span>
                </div>
                {status.state !== 'sent' && (
                  <p class={status.state === 'failed' ? 'error small' : 'muted small'}>
                    {status.state === 'failed' ? `Failed: ${status.error ?? 'unknown error'}` : 'Sending…'}
                  </p>
                )}
                <p class="reach-line">
                  <a href={statusHref(sessionId, status.id)} data-testid="viewer-count">
                    {status.viewerCount} viewer{status.viewerCount === 1 ? '' : 's'}
                  </a>{' '}
                  of {status.contactCount} · {reach} % reach
                </p>
                <meter class="reach" min={0} max={100} value={reach} aria-label="Reach" />
                <div class="actions">
                  <a class="button small" href={statusHref(sessionId, status.id)}>
                    Viewers
                  </a>
                  <ConfirmButton
                    label="Delete"
                    question="Delete this status here? It stays on phones until it expires."
                    confirmLabel="Delete"
                    danger
                    small
                    onConfirm={() => remove(status.id)}
                  />
                  {status.state === 'sent' && session.connected && (
                    <ConfirmButton
                      label="Delete for everyone"
                      question="Delete it from your contacts' phones too?"
                      confirmLabel="Delete for everyone"
                      danger
                      small
                      onConfirm={() => remove(status.id, true)}
                    />
                  )}
                </div>
              </div>
            </li>
          )
        })}
      </ul>
    </section>
  )
}
