import { useEffect, useState } from 'preact/hooks'
import type { SessionView, StatusView, Viewer } from '../../../shared/schemas.js'
import type { Api, StatusAnalytics } from '../api.js'
import { formatClock, formatNumber, formatTime } from '../format.js'
import { sessionHref } from '../hooks.js'
import type { Live } from '../live.js'
import { ErrorNote } from './error-note.js'
import { StatusPreview } from './status-preview.js'
import { ViewsChart } from './views-chart.js'

const byViewTime = (a: Viewer, b: Viewer) => Date.parse(a.viewedAt) - Date.parse(b.viewedAt)

interface ViewersPanelProps {
  api: Api
  live: Live
  session: SessionView
  statusId: string
}

/** Who viewed one status and when, live as views arrive; a chart of views over time; CSV. */
export const ViewersPanel = ({ api, live, session, statusId }: ViewersPanelProps) => {
  const [status, setStatus] = useState<StatusView | null>(null)
  const [viewers, setViewers] = useState<Viewer[] | null>(null)
  const [analytics, setAnalytics] = useState<StatusAnalytics | null>(null)
  const [error, setError] = useState<string | null>(null)
  const sessionId = session.sessionId

  useEffect(() => {
    // Reach and the not-yet-viewed list come from the API's analytics, read again (at most once a
    // second) while views arrive.
    let timer: ReturnType<typeof setTimeout> | null = null
    const loadAnalytics = () =>
      api.analytics(sessionId, statusId).then(setAnalytics, (e: Error) => setError(e.message))
    const analyticsSoon = () => {
      timer ??= setTimeout(() => {
        timer = null
        void loadAnalytics()
      }, 1_000)
    }
    const load = () => {
      Promise.all([
        api.viewers(sessionId, statusId),
        api.statuses(sessionId),
        api.analytics(sessionId, statusId),
      ])
        .then(([list, statuses, reach]) => {
          setViewers([...list].sort(byViewTime))
          setStatus(statuses.find((s) => s.id === statusId) ?? null)
          setAnalytics(reach)
          setError(null)
        })
        .catch((e: Error) => setError(e.message))
    }
    load()
    const stops = [
      live.onResync(load),
      live.on('status-viewers-update', (update) => {
        if (update.sessionId !== sessionId || update.statusId !== statusId) return
        // Each update carries every viewer so far; merging keeps a late, shorter one harmless.
        setViewers((current) => {
          const known = new Map((current ?? []).map((v) => [v.jid, v]))
          for (const viewer of update.viewers) if (!known.has(viewer.jid)) known.set(viewer.jid, viewer)
          return [...known.values()].sort(byViewTime)
        })
        analyticsSoon()
      }),
      live.on('status-deleted', (event) => {
        if (event.sessionId === sessionId && event.statusId === statusId)
          location.hash = sessionHref(sessionId)
      }),
    ]
    return () => {
      if (timer) clearTimeout(timer)
      for (const stop of stops) stop()
    }
  }, [api, live, sessionId, statusId])

  const download = async () => {
    try {
      const blob = await api.viewersCsv(sessionId, statusId)
      const link = document.createElement('a')
      link.href = URL.createObjectURL(blob)
      link.download = `viewers-${sessionId}-${statusId}.csv`
      document.body.append(link)
      link.click()
      link.remove()
      setTimeout(() => URL.revokeObjectURL(link.href), 1_000)
    } catch (e) {
      setError((e as Error).message)
    }
  }

  const count = viewers?.length ?? 0
  return (
    <section class="card" aria-labelledby="viewers-title">
      <p>
        <a href={sessionHref(sessionId)}>← All statuses</a>
      </p>
      <div class="row-between">
        <h2 id="viewers-title">Viewers</h2>
        <button type="button" onClick={download} disabled={viewers === null}>
          Download CSV
        </button>
      </div>
      <ErrorNote message={error} />
      {status && (
        <div class="status-item">
          <StatusPreview api={api} status={status} />
          <div class="status-body">
            <p>
              Sent {formatTime(status.timestamp)} to {status.contactCount} contact
              {status.contactCount === 1 ? '' : 's'}.
            </p>
            <p data-testid="viewers-summary">
              <b>{count}</b> viewer{count === 1 ? '' : 's'}
              {analytics?.reachPercent != null && <> · {Math.round(analytics.reachPercent)} % reach</>}
            </p>
          </div>
        </div>
      )}
      {viewers && viewers.length > 0 && <ViewsChart viewers={viewers} since={status?.timestamp ?? null} />}
      {analytics && analytics.notViewed.length > 0 && (
        <details class="not-viewed" data-testid="not-viewed">
          <summary>
            Not viewed yet: {analytics.notViewed.length} of {analytics.audienceSize}
          </summary>
          <ul>
            {analytics.notViewed.map((number) => (
              <li key={number}>{formatNumber(number)}</li>
            ))}
          </ul>
          {analytics.unresolvedViewers > 0 && (
            <p class="muted small">
              {analytics.unresolvedViewers} viewer{analytics.unresolvedViewers === 1 ? ' is' : 's are'} known
              only by LID and may be among these.
            </p>
          )}
        </details>
      )}
      {viewers === null && !error && <p class="muted">Loading…</p>}
      {viewers?.length === 0 && <p class="muted">No views yet. They appear here as they happen.</p>}
      {viewers && viewers.length > 0 && (
        <div class="table-wrap">
          <table data-testid="viewers-table">
            <thead>
              <tr>
                <th scope="col">Viewer</th>
                <th scope="col">Viewed at</th>
              </tr>
            </thead>
            <tbody aria-live="polite">
              {viewers.map((viewer) => (
                <tr key={viewer.jid}>
                  <td>
                    {viewer.number ? (
                      formatNumber(viewer.number)
                    ) : (
                      <>
                        <code>{viewer.lid ?? viewer.jid}</code>{' '}
                        <span class="badge badge-wait">LID, unresolved</span>
                      </>
                    )}
                  </td>
                  <td title={formatTime(viewer.viewedAt)}>{formatClock(viewer.viewedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
