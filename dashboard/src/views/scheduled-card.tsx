import { useCallback, useEffect, useState } from 'preact/hooks'
import type { SessionView } from '../../../shared/schemas.js'
import type { Api, ScheduledStatus } from '../api.js'
import { formatTime } from '../format.js'
import { ConfirmButton } from './confirm-button.js'
import { ErrorNote } from './error-note.js'

const REPEAT: Record<ScheduledStatus['repeat'], string> = {
  none: 'once',
  daily: 'every day',
  weekly: 'every week',
}

/** Statuses waiting for their time (and how earlier ones went), with cancel. */
export const ScheduledCard = ({ api, session, sends }: { api: Api; session: SessionView; sends: number }) => {
  const [list, setList] = useState<ScheduledStatus[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const load = useCallback(
    () => api.scheduled(session.sessionId).then(setList, (e: Error) => setError(e.message)),
    [api, session.sessionId],
  )
  // `sends` is not read: it says when to read the list again.
  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), 15_000)
    return () => clearInterval(timer)
  }, [load, sends])

  const shown = list?.filter((item) => item.state !== 'cancelled') ?? []
  if (shown.length === 0 && !error) return null
  return (
    <section class="card" aria-labelledby="scheduled-title" data-testid="scheduled">
      <h2 id="scheduled-title">Scheduled</h2>
      <ErrorNote message={error} />
      <ul class="plain-list">
        {shown.map((item) => (
          <li key={item.scheduledId} data-scheduled={item.scheduledId}>
            <span>
              {item.type}, {formatTime(item.sendAt)}, {REPEAT[item.repeat]} — <b>{item.state}</b>
              {item.lastError && <span class="muted small"> ({item.lastError})</span>}
            </span>
            {item.state === 'scheduled' && (
              <ConfirmButton
                label="Cancel"
                question="Cancel this scheduled status?"
                confirmLabel="Cancel it"
                small
                onConfirm={() =>
                  api
                    .cancelScheduled(session.sessionId, item.scheduledId)
                    .then(load, (e: Error) => setError(e.message))
                }
              />
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}
