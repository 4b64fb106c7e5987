import { useEffect, useState } from 'preact/hooks'
import type { SessionView } from '../../../shared/schemas.js'
import type { Api, ContactAnalytics, DayTotals } from '../api.js'
import { formatDay, formatNumber, formatTime } from '../format.js'
import type { Live } from '../live.js'
import { ErrorNote } from './error-note.js'

type Sort = 'most-viewed' | 'least-viewed'

const SORTS: { value: Sort; label: string }[] = [
  { value: 'most-viewed', label: 'Who views the most' },
  { value: 'least-viewed', label: 'Who views the least' },
]

/**
 * Across the session's latest statuses (expired ones included while the history keeps them): who
 * views, who does not, and views per day.
 */
export const AudienceCard = ({ api, live, session }: { api: Api; live: Live; session: SessionView }) => {
  const [sort, setSort] = useState<Sort>('most-viewed')
  const [contacts, setContacts] = useState<ContactAnalytics | null>(null)
  const [days, setDays] = useState<DayTotals[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const sessionId = session.sessionId

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null
    const load = () =>
      Promise.all([api.contacts(sessionId, sort), api.daily(sessionId)]).then(
        ([ranked, daily]) => {
          setContacts(ranked)
          setDays(daily.days)
          setError(null)
        },
        (e: Error) => setError(e.message),
      )
    // Views arrive in bursts: read again at most every two seconds.
    const soon = (payload: { sessionId: string }) => {
      if (payload.sessionId !== sessionId) return
      timer ??= setTimeout(() => {
        timer = null
        void load()
      }, 2_000)
    }
    void load()
    const stops = [
      live.onResync(load),
      live.on('status-viewers-update', soon),
      live.on('status-sent', soon),
      live.on('statuses-updated', soon),
    ]
    return () => {
      if (timer) clearTimeout(timer)
      for (const stop of stops) stop()
    }
  }, [api, live, sessionId, sort])

  return (
    <section class="card" aria-labelledby="audience-title" data-testid="audience">
      <div class="row-between">
        <h2 id="audience-title">Who views</h2>
        <label class="inline">
          <span class="sr-only">Order</span>
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as Sort)} aria-label="Order">
            {SORTS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote message={error} />
      {contacts && contacts.statuses === 0 && <p class="muted">Nothing sent yet.</p>}
      {contacts && contacts.contacts.length > 0 && (
        <>
          <p class="muted small">
            Of the last {contacts.statuses} status{contacts.statuses === 1 ? '' : 'es'}
            {contacts.since && <> (since {formatDay(contacts.since)})</>}
            {contacts.unresolvedViews > 0 && <>; {contacts.unresolvedViews} views by LID only not counted</>}.
          </p>
          <div class="table-wrap">
            <table data-testid="audience-table">
              <thead>
                <tr>
                  <th scope="col">Contact</th>
                  <th scope="col">Viewed</th>
                  <th scope="col">Last view</th>
                </tr>
              </thead>
              <tbody>
                {contacts.contacts.map((contact) => (
                  <tr key={contact.number}>
                    <td>{formatNumber(contact.number)}</td>
                    <td>
                      {contact.viewed} of {contact.received}
                      {contact.viewRate !== null && (
                        <span class="muted"> ({Math.round(contact.viewRate)} %)</span>
                      )}
                    </td>
                    <td>{contact.lastViewAt ? formatTime(contact.lastViewAt) : 'never'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {days && <DailyChart days={days} />}
    </section>
  )
}

const WIDTH = 600
const HEIGHT = 120
const PAD = 20

/** Views per day as bars, the statuses sent that day in the bar's label. */
const DailyChart = ({ days }: { days: DayTotals[] }) => {
  const most = Math.max(1, ...days.map((day) => day.views))
  const slot = (WIDTH - 2 * PAD) / days.length
  const total = days.reduce((sum, day) => sum + day.views, 0)
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Views per day: ${total} in the last ${days.length} days`}
      >
        {days.map((day, i) => {
          const height = ((HEIGHT - 2 * PAD) * day.views) / most
          return (
            <rect
              key={day.day}
              class="bar"
              x={PAD + i * slot + 2}
              y={HEIGHT - PAD - height}
              width={Math.max(1, slot - 4)}
              height={height}
            >
              <title>
                {day.day}: {day.views} views, {day.statusesSent} statuses sent
              </title>
            </rect>
          )
        })}
        <line class="axis" x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} />
        <text x={PAD} y={HEIGHT - 4}>
          {days[0]?.day}
        </text>
        <text x={WIDTH - PAD} y={HEIGHT - 4} text-anchor="end">
          {days.at(-1)?.day}
        </text>
      </svg>
      <figcaption class="muted small">Views per day (UTC)</figcaption>
    </figure>
  )
}
