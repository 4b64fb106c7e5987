import { useState } from 'preact/hooks'
import type { SessionView } from '../../../shared/schemas.js'
import type { Api } from '../api.js'
import { formatTime } from '../format.js'
import { toggled, useAdminList } from '../hooks.js'
import { ConfirmButton } from './confirm-button.js'
import { ErrorNote } from './error-note.js'
import { ShownOnce } from './shown-once.js'

const SCOPES = [
  { value: 'read', label: 'Read: lists, viewers, analytics, live events' },
  { value: 'send', label: 'Send: also post and delete statuses, uploads, audiences' },
  { value: 'admin', label: 'Admin: also sessions and webhooks' },
] as const

/** Keys for other tools, limited to a scope and to sessions: the key shown once, revoke. */
export const ApiKeysCard = ({ api, sessions }: { api: Api; sessions: SessionView[] | null }) => {
  const { list, error, setError, forbidden, load } = useAdminList(api.apiKeys)
  const [name, setName] = useState('')
  const [scope, setScope] = useState<string>('read')
  const [chosen, setChosen] = useState<string[]>([])
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null)
  const [formError, setFormError] = useState<string | null>(null)

  const submit = (e: Event) => {
    e.preventDefault()
    setFormError(null)
    api.createApiKey({ name, scopes: [scope], ...(chosen.length ? { sessionIds: chosen } : {}) }).then(
      (key) => {
        setCreated({ name: key.name, key: key.key })
        setName('')
        setChosen([])
        return load()
      },
      (e: Error) => setFormError(e.message),
    )
  }
  const names = new Map(sessions?.map((s) => [s.sessionId, s.sessionName]))

  if (forbidden) return null
  return (
    <section class="card" aria-labelledby="keys-title" data-testid="api-keys">
      <h2 id="keys-title">API keys</h2>
      <ErrorNote message={error} />
      {created && (
        <ShownOnce
          what={`Key “${created.name}”.`}
          value={created.key}
          testId="new-key"
          onDone={() => setCreated(null)}
        />
      )}
      {list && list.length > 0 && (
        <ul class="plain-list">
          {list.map((key) => (
            <li key={key.keyId} data-key={key.keyId}>
              <span>
                <b>{key.name}</b> <code>{key.keyPrefix}…</code>
                <span class="muted small">
                  {' '}
                  {key.scopes.join(', ')},{' '}
                  {key.sessionIds
                    ? key.sessionIds.map((id) => names.get(id) ?? id).join(', ')
                    : 'every session'}
                  ;{' '}
                  {key.revokedAt
                    ? `revoked ${formatTime(key.revokedAt)}`
                    : key.lastUsedAt
                      ? `last used ${formatTime(key.lastUsedAt)}`
                      : 'never used'}
                </span>
              </span>
              {!key.revokedAt && (
                <ConfirmButton
                  label="Revoke"
                  question={`Revoke “${key.name}”? Tools using it are refused from now on.`}
                  confirmLabel="Revoke it"
                  small
                  onConfirm={() => api.revokeApiKey(key.keyId).then(load, (e: Error) => setError(e.message))}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>Create a key</summary>
        <form onSubmit={submit} noValidate>
          <label for="key-name">Name</label>
          <input
            id="key-name"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            placeholder="Reporting tool"
            aria-invalid={formError ? 'true' : undefined}
            aria-describedby={formError ? 'key-error' : undefined}
          />
          <fieldset>
            <legend>May</legend>
            {SCOPES.map((option) => (
              <label class="inline" key={option.value}>
                <input
                  type="radio"
                  name="key-scope"
                  value={option.value}
                  checked={scope === option.value}
                  onChange={() => setScope(option.value)}
                />
                {option.label}
              </label>
            ))}
          </fieldset>
          {sessions && sessions.length > 0 && (
            <fieldset class="choices">
              <legend>Sessions (none chosen: every session)</legend>
              {sessions.map((s) => (
                <label class="inline" key={s.sessionId}>
                  <input
                    type="checkbox"
                    checked={chosen.includes(s.sessionId)}
                    onChange={() => setChosen((ids) => toggled(ids, s.sessionId))}
                  />
                  {s.sessionName}
                </label>
              ))}
            </fieldset>
          )}
          {formError && (
            <p id="key-error" class="field-error" role="alert">
              {formError}
            </p>
          )}
          <div class="actions">
            <button type="submit" class="primary">
              Create key
            </button>
          </div>
        </form>
      </details>
    </section>
  )
}
