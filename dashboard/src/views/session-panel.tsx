import { useState } from 'preact/hooks'
import type { SessionView } from '../../../shared/schemas.js'
import type { Api } from '../api.js'
import { formatNumber, formatTime } from '../format.js'
import type { Live } from '../live.js'
import { AudienceCard } from './audience-card.js'
import { Compose } from './compose.js'
import { ConfirmButton } from './confirm-button.js'
import { Linking } from './linking.js'
import { ScheduledCard } from './scheduled-card.js'
import { StateBadge } from './state-badge.js'
import { StatusList } from './status-list.js'
import { ViewersPanel } from './viewers-panel.js'

/** States in which the account is still waiting for the phone: the linking card is shown. */
const LINKING = new Set<SessionView['status']>(['created', 'connecting', 'qr', 'pairing'])

interface SessionPanelProps {
  api: Api
  live: Live
  session: SessionView
  statusId: string | null
  onChanged: () => void
}

export const SessionPanel = ({ api, live, session, statusId, onChanged }: SessionPanelProps) => {
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null)
  const [editingPhone, setEditingPhone] = useState(false)
  // Bumped after every send, sent or not: a refused status is listed (as failed) with no event.
  const [sends, setSends] = useState(0)

  const act = async (run: () => Promise<unknown>, done: string) => {
    setMessage(null)
    try {
      await run()
      setMessage({ text: done, error: false })
      onChanged()
    } catch (error) {
      setMessage({ text: (error as Error).message, error: true })
    }
  }

  return (
    <div class="stack">
      <section class="card" aria-labelledby="session-title">
        <div class="row-between">
          <h2 id="session-title">{session.sessionName}</h2>
          <StateBadge session={session} />
        </div>
        {session.connected && session.ownNumber && (
          <p class="success" data-testid="connected-as">
            Connected as {formatNumber(session.ownNumber)}
          </p>
        )}
        <dl class="facts">
          <div>
            <dt>Session id</dt>
            <dd>
              <code>{session.sessionId}</code>
            </dd>
          </div>
          <div>
            <dt>Own number</dt>
            <dd>{formatNumber(session.ownNumber)}</dd>
          </div>
          <div>
            <dt>Linked with</dt>
            <dd>
              {session.authMethod === 'pairing'
                ? `pairing code (${formatNumber(session.phoneNumber)})`
                : 'QR code'}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatTime(session.createdAt)}</dd>
          </div>
          {session.connectorId && (
            <div>
              <dt>Connector</dt>
              <dd>
                <code>{session.connectorId}</code>
              </dd>
            </div>
          )}
        </dl>
        {session.lastError && !session.connected && <p class="warning">Last error: {session.lastError}</p>}
        <div class="actions">
          <button
            type="button"
            onClick={() => act(() => api.restartSession(session.sessionId), 'Restarting the session…')}
          >
            Restart
          </button>
          {session.authMethod === 'pairing' && !session.connected && (
            <button type="button" onClick={() => setEditingPhone(!editingPhone)} aria-expanded={editingPhone}>
              Change phone number
            </button>
          )}
          <ConfirmButton
            label="Delete session"
            question="Delete this session, its link, statuses and viewers?"
            confirmLabel="Delete"
            danger
            onConfirm={() =>
              act(() => api.deleteSession(session.sessionId), 'Session deleted.').then(() => {
                location.hash = '#/'
              })
            }
          />
        </div>
        {editingPhone && (
          <PhoneForm
            api={api}
            session={session}
            onDone={(text) => {
              setEditingPhone(false)
              setMessage({ text, error: false })
              onChanged()
            }}
          />
        )}
        {message && (
          <p class={message.error ? 'error' : 'muted'} role={message.error ? 'alert' : 'status'}>
            {message.text}
          </p>
        )}
      </section>
      {!session.connected && LINKING.has(session.status) && <Linking api={api} session={session} />}
      {statusId ? (
        <ViewersPanel api={api} live={live} session={session} statusId={statusId} />
      ) : (
        <>
          {session.connected ? (
            <Compose api={api} live={live} session={session} onSettled={() => setSends((n) => n + 1)} />
          ) : (
            <section class="card">
              <h2>Post a status</h2>
              <p class="muted">Link the account first: statuses go out once it is connected.</p>
            </section>
          )}
          <ScheduledCard api={api} session={session} sends={sends} />
          <StatusList api={api} live={live} session={session} sends={sends} />
          <AudienceCard api={api} live={live} session={session} />
        </>
      )}
    </div>
  )
}

const PhoneForm = ({
  api,
  session,
  onDone,
}: {
  api: Api
  session: SessionView
  onDone: (text: string) => void
}) => {
  const [phone, setPhone] = useState(session.phoneNumber ?? '')
  const [error, setError] = useState<string | null>(null)
  const submit = async (event: Event) => {
    event.preventDefault()
    setError(null)
    try {
      await api.updatePhone(session.sessionId, phone.trim().replace(/^\+/, ''))
    } catch (e) {
      return setError((e as Error).message)
    }
    // A code belongs to a number: the one shown is for the old number, so ask for one for the new.
    try {
      await api.requestPairingCode(session.sessionId)
      onDone('Phone number updated; here is a code for it.')
    } catch (e) {
      onDone(`Phone number updated. ${(e as Error).message}: use "Get a new code".`)
    }
  }
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <label for="phone-edit">New phone number</label>
      <input
        id="phone-edit"
        value={phone}
        inputMode="numeric"
        onInput={(e) => setPhone(e.currentTarget.value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? 'phone-edit-error' : undefined}
      />
      <button type="submit" class="primary">
        Save
      </button>
      {error && (
        <p id="phone-edit-error" class="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
