import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { SessionView } from '../../shared/schemas.js'
import { Api } from './api.js'
import { useRoute } from './hooks.js'
import { Live, type LiveState } from './live.js'
import { forgetKey, savedEventsUrl, savedKey, saveSignIn } from './storage.js'
import { Header } from './views/header.js'
import { NewSession } from './views/new-session.js'
import { Overview } from './views/overview.js'
import { SessionList } from './views/session-list.js'
import { SessionPanel } from './views/session-panel.js'
import { SignIn } from './views/sign-in.js'

const REFUSED = 'The server refused this key (401). Enter the key from data/api-key or API_KEY.'

export const App = () => {
  const [key, setKey] = useState<string | null>(savedKey)
  const [eventsUrl, setEventsUrl] = useState<string | null>(savedEventsUrl)
  const [notice, setNotice] = useState<string | null>(null)

  const signOut = useCallback((message: string | null) => {
    forgetKey()
    setKey(null)
    setNotice(message)
  }, [])

  if (!key) {
    return (
      <SignIn
        notice={notice}
        eventsUrl={eventsUrl}
        onSignIn={(entered, url) => {
          saveSignIn(entered, url)
          setEventsUrl(url)
          setNotice(null)
          setKey(entered)
        }}
      />
    )
  }
  return <Dashboard apiKey={key} eventsUrl={eventsUrl} onSignOut={signOut} />
}

interface DashboardProps {
  apiKey: string
  eventsUrl: string | null
  onSignOut: (message: string | null) => void
}

const Dashboard = ({ apiKey, eventsUrl, onSignOut }: DashboardProps) => {
  const api = useMemo(() => new Api(apiKey, () => onSignOut(REFUSED)), [apiKey, onSignOut])
  // Live events start once the key has been accepted: a refused key opens no socket at all.
  const [live, setLive] = useState<Live | null>(null)
  const [liveState, setLiveState] = useState<LiveState>('connecting')
  const [sessions, setSessions] = useState<SessionView[] | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const route = useRoute()
  // The latest linking state each session's events told (connection, QR, pairing code). A list
  // read before an event but answered after it would otherwise undo it, e.g. hide a fresh QR until
  // the next refresh; events arrive in order, so what they say is never older than a list.
  const told = useRef(new Map<string, Partial<SessionView>>())

  const reload = useCallback(
    () =>
      api.sessions().then(
        (list) => {
          setSessions(list.map((s) => ({ ...s, ...told.current.get(s.sessionId) })))
          setLoadError(null)
          return true
        },
        (error: Error) => {
          setLoadError(error.message)
          return false
        },
      ),
    [api],
  )

  useEffect(() => {
    let opened: Live | null = null
    void reload().then((accepted) => {
      if (!accepted) return
      opened = new Live(apiKey, eventsUrl)
      setLive(opened)
    })
    return () => opened?.close()
  }, [apiKey, eventsUrl, reload])

  useEffect(() => {
    if (!live) return
    setLiveState(live.state)
    const patch = (sessionId: string, change: Partial<SessionView>) => {
      told.current.set(sessionId, { ...told.current.get(sessionId), ...change })
      setSessions((list) => list?.map((s) => (s.sessionId === sessionId ? { ...s, ...change } : s)) ?? list)
    }
    const stops = [
      live.onState(setLiveState),
      live.onResync(reload),
      live.on('session-created', reload),
      live.on('session-deleted', ({ sessionId }) => {
        told.current.delete(sessionId)
        setSessions((list) => list?.filter((s) => s.sessionId !== sessionId) ?? list)
      }),
      live.on('connection-status', ({ sessionId, connected, status, ownNumber }) =>
        patch(sessionId, {
          connected,
          status,
          ownNumber,
          ...(connected ? { qrCode: null, pairingCode: null } : {}),
        }),
      ),
      live.on('qr-code', ({ sessionId, qrCode }) => patch(sessionId, { qrCode, status: 'qr' })),
      live.on('pairing-code', ({ sessionId, pairingCode, phoneNumber }) =>
        patch(sessionId, { pairingCode, phoneNumber, status: 'pairing' }),
      ),
    ]
    return () => {
      for (const stop of stops) stop()
    }
  }, [live, reload])

  const selected = sessions?.find((s) => s.sessionId === route.sessionId) ?? null

  return (
    <div class="shell">
      <Header live={liveState} onSignOut={() => onSignOut(null)} />
      <main id="main" class="layout">
        <aside class="sidebar" aria-label="Sessions">
          <SessionList sessions={sessions} selectedId={route.sessionId} error={loadError} />
        </aside>
        <section class="content">
          {!live ? (
            <p class="muted">{loadError ? '' : 'Loading…'}</p>
          ) : route.creating ? (
            <NewSession api={api} onCreated={reload} />
          ) : selected ? (
            <SessionPanel
              key={selected.sessionId}
              api={api}
              live={live}
              session={selected}
              statusId={route.statusId}
              onChanged={reload}
            />
          ) : route.sessionId && sessions ? (
            <div class="card">
              <h2>Session not found</h2>
              <p>
                There is no session <code>{route.sessionId}</code>. <a href="#/">Back to the overview</a>.
              </p>
            </div>
          ) : (
            <Overview api={api} live={live} sessions={sessions} />
          )}
        </section>
      </main>
    </div>
  )
}
