import { useState } from 'preact/hooks'
import { ErrorNote } from './error-note.js'

interface SignInProps {
  notice: string | null
  eventsUrl: string | null
  onSignIn: (key: string, eventsUrl: string | null) => void
}

/** Asks for the API key once; the browser keeps it (localStorage) until "Sign out" or a 401. */
export const SignIn = ({ notice, eventsUrl, onSignIn }: SignInProps) => {
  const [key, setKey] = useState('')
  const [url, setUrl] = useState(eventsUrl ?? '')
  const [error, setError] = useState<string | null>(null)

  const submit = (event: Event) => {
    event.preventDefault()
    const trimmed = key.trim()
    if (!trimmed) return setError('Enter the API key.')
    const events = url.trim()
    if (events && !/^https?:\/\//i.test(events)) return setError('The events server must be an http(s) URL.')
    onSignIn(trimmed, events || null)
  }

  return (
    <main class="signin">
      <form class="card" onSubmit={submit} noValidate>
        <h1>Status Tracker</h1>
        <p>Enter the API key of this server. It is printed on the first start and kept in data/api-key.</p>
        <ErrorNote message={notice} />
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="current-password"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'signin-error' : undefined}
        />
        <details>
          <summary>Live events on another server</summary>
          <label for="events-url">Events server (empty: this server)</label>
          <input
            id="events-url"
            type="url"
            placeholder="https://connector.example.com"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          <p class="hint">
            For an API on Cloudflare Workers: the URL of a connector, which serves Socket.IO.
          </p>
        </details>
        {error && (
          <p id="signin-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  )
}
