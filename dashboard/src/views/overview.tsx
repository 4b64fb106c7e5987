import { useEffect, useState } from 'preact/hooks'
import type { SessionView } from '../../../shared/schemas.js'
import type { Api, Stats, Storage } from '../api.js'
import { formatBytes, formatTime } from '../format.js'
import type { Live } from '../live.js'
import { ApiKeysCard } from './api-keys-card.js'
import { ErrorNote } from './error-note.js'
import { WebhooksCard } from './webhooks-card.js'

const REFRESH_EVENTS = [
  'status-sent',
  'status-viewers-update',
  'status-deleted',
  'statuses-updated',
  'session-created',
  'session-deleted',
  'connection-status',
] as const

/** `/api/stats` and `/api/storage` at a glance, read again (at most once a second) as events arrive. */
export const Overview = ({
  api,
  live,
  sessions,
}: {
  api: Api
  live: Live
  sessions: SessionView[] | null
}) => {
  const [stats, setStats] = useState<Stats | null>(null)
  const [storage, setStorage] = useState<Storage | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null
    const load = () => {
      Promise.all([api.stats(), api.storage()])
        .then(([s, t]) => {
          setStats(s)
          setStorage(t)
          setError(null)
        })
        .catch((e: Error) => setError(e.message))
    }
    const soon = () => {
      timer ??= setTimeout(() => {
        timer = null
        load()
      }, 1_000)
    }
    load()
    const stops = [...REFRESH_EVENTS.map((event) => live.on(event, soon)), live.onResync(load)]
    return () => {
      if (timer) clearTimeout(timer)
      for (const stop of stops) stop()
    }
  }, [api, live])

  const names = new Map(sessions?.map((s) => [s.sessionId, s.sessionName]))
  return (
    <div class="stack">
      <section class="card" aria-labelledby="stats-title">
        <h2 id="stats-title">At a glance</h2>
        <ErrorNote message={error} />
        <dl class="tiles" data-testid="stats">
          <div>
            <dt>Sessions</dt>
            <dd>{stats?.totalSessions ?? '–'}</dd>
          </div>
          <div>
            <dt>Connected</dt>
            <dd>{stats?.connectedSessions ?? '–'}</dd>
          </div>
          <div>
            <dt>Statuses (24 h)</dt>
            <dd>{stats?.totalStatuses ?? '–'}</dd>
          </div>
          <div>
            <dt>Views</dt>
            <dd>{stats?.totalViewers ?? '–'}</dd>
          </div>
          <div>
            <dt>Database</dt>
            <dd>{formatBytes(storage?.databaseBytes ?? null)}</dd>
          </div>
        </dl>
        {stats?.lastStatusSent && <p class="muted">Last status sent {formatTime(stats.lastStatusSent)}.</p>}
      </section>
      {storage && storage.sessions.length > 0 && (
        <section class="card" aria-labelledby="storage-title">
          <h2 id="storage-title">Storage by session</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Session</th>
                  <th scope="col">Statuses</th>
                  <th scope="col">Views</th>
                  <th scope="col">Auth keys</th>
                  <th scope="col">Auth size</th>
                </tr>
              </thead>
              <tbody>
                {storage.sessions.map((row) => (
                  <tr key={row.sessionId}>
                    <th scope="row">{names.get(row.sessionId) ?? row.sessionId}</th>
                    <td>{row.statuses}</td>
                    <td>{row.viewers}</td>
                    <td>{row.authKeys}</td>
                    <td>{formatBytes(row.authBytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <WebhooksCard api={api} sessions={sessions} />
      <ApiKeysCard api={api} sessions={sessions} />
      {sessions?.length === 0 && (
        <section class="card">
          <h2>Get started</h2>
          <ol>
            <li>
              <a href="#/new">Create a session</a> and link it with a QR code or a pairing code.
            </li>
            <li>Post a status to the contacts you choose.</li>
            <li>Watch who views it, live.</li>
          </ol>
        </section>
      )}
    </div>
  )
}
