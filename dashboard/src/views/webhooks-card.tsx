import { useCallback, useEffect, useState } from 'preact/hooks'
import { EVENT_NAMES } from '../../../shared/events.js'
import type { SessionView } from '../../../shared/schemas.js'
import type { Api, Webhook, WebhookDeliveryInfo } from '../api.js'
import { formatTime } from '../format.js'
import { toggled, useAdminList } from '../hooks.js'
import { ConfirmButton } from './confirm-button.js'
import { ErrorNote } from './error-note.js'
import { ShownOnce } from './shown-once.js'

/** The last deliveries of one webhook, with redelivery. */
const DeliveryLog = ({ api, webhook }: { api: Api; webhook: Webhook }) => {
  const [log, setLog] = useState<WebhookDeliveryInfo[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const load = useCallback(
    () => api.deliveries(webhook.webhookId).then(setLog, (e: Error) => setError(e.message)),
    [api, webhook.webhookId],
  )
  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), 5_000)
    return () => clearInterval(timer)
  }, [load])
  return (
    <div data-testid="deliveries">
      <ErrorNote message={error} />
      {log?.length === 0 && <p class="muted small">No deliveries yet.</p>}
      {log && log.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Last deliveries to {webhook.url}</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">When</th>
                <th scope="col">Result</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {log.map((delivery) => (
                <tr key={delivery.deliveryId} data-delivery={delivery.deliveryId}>
                  <td>{delivery.event}</td>
                  <td>{formatTime(delivery.createdAt)}</td>
                  <td>
                    <b>{delivery.state}</b>
                    <span class="muted small">
                      {' '}
                      {delivery.attempts} attempt{delivery.attempts === 1 ? '' : 's'}
                      {delivery.error && `, ${delivery.error}`}
                    </span>
                  </td>
                  <td>
                    <button
                      type="button"
                      class="small"
                      onClick={() =>
                        api
                          .redeliver(webhook.webhookId, delivery.deliveryId)
                          .then(load, (e: Error) => setError(e.message))
                      }
                    >
                      Redeliver
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

/** Registered webhooks: add one (its secret shown once), see what was delivered, remove. */
export const WebhooksCard = ({ api, sessions }: { api: Api; sessions: SessionView[] | null }) => {
  const { list, error, setError, forbidden, load } = useAdminList(api.webhooks)
  const [url, setUrl] = useState('')
  const [scope, setScope] = useState('')
  const [events, setEvents] = useState<string[]>([])
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null)
  const [formError, setFormError] = useState<string | null>(null)
  const [open, setOpen] = useState<string | null>(null)

  const submit = (e: Event) => {
    e.preventDefault()
    setFormError(null)
    api
      .createWebhook({ url, events: events.length ? events : ['*'], ...(scope ? { sessionId: scope } : {}) })
      .then(
        (webhook) => {
          setCreated({ url: webhook.url, secret: webhook.secret })
          setUrl('')
          setEvents([])
          return load()
        },
        (e: Error) => setFormError(e.message),
      )
  }
  const names = new Map(sessions?.map((s) => [s.sessionId, s.sessionName]))

  if (forbidden) return null
  return (
    <section class="card" aria-labelledby="webhooks-title" data-testid="webhooks">
      <h2 id="webhooks-title">Webhooks</h2>
      <ErrorNote message={error} />
      {created && (
        <ShownOnce
          what={`Signing secret for ${created.url}.`}
          value={created.secret}
          testId="webhook-secret"
          onDone={() => setCreated(null)}
        />
      )}
      {list && list.length > 0 && (
        <ul class="plain-list">
          {list.map((webhook) => (
            <li key={webhook.webhookId} data-webhook={webhook.webhookId} class="stack">
              <div class="row-between">
                <span>
                  <b>{webhook.url}</b>
                  <span class="muted small">
                    {' '}
                    {webhook.sessionId
                      ? (names.get(webhook.sessionId) ?? webhook.sessionId)
                      : 'every session'}
                    , {webhook.events.includes('*') ? 'all events' : webhook.events.join(', ')}
                    {!webhook.active && ' — paused'}
                  </span>
                </span>
                <span>
                  <button
                    type="button"
                    class="small"
                    aria-expanded={open === webhook.webhookId}
                    onClick={() => setOpen(open === webhook.webhookId ? null : webhook.webhookId)}
                  >
                    Deliveries
                  </button>{' '}
                  <button
                    type="button"
                    class="small"
                    onClick={() =>
                      api
                        .setWebhookActive(webhook.webhookId, !webhook.active)
                        .then(load, (e: Error) => setError(e.message))
                    }
                  >
                    {webhook.active ? 'Pause' : 'Resume'}
                  </button>{' '}
                  <ConfirmButton
                    label="Remove"
                    question="Remove this webhook and its delivery log?"
                    confirmLabel="Remove it"
                    small
                    onConfirm={() =>
                      api.deleteWebhook(webhook.webhookId).then(load, (e: Error) => setError(e.message))
                    }
                  />
                </span>
              </div>
              {open === webhook.webhookId && <DeliveryLog api={api} webhook={webhook} />}
            </li>
          ))}
        </ul>
      )}
      {list?.length === 0 && <p class="muted">Events POSTed to your server as they happen, signed.</p>}
      <details open={list?.length === 0}>
        <summary>Add a webhook</summary>
        <form onSubmit={submit} noValidate>
          <label for="webhook-url">Receiver URL</label>
          <input
            id="webhook-url"
            type="url"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
            placeholder="https://hooks.example.com/whatsapp"
            aria-invalid={formError ? 'true' : undefined}
            aria-describedby={formError ? 'webhook-error' : undefined}
          />
          <label for="webhook-scope">Events of</label>
          <select id="webhook-scope" value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
            <option value="">Every session</option>
            {sessions?.map((s) => (
              <option key={s.sessionId} value={s.sessionId}>
                {s.sessionName}
              </option>
            ))}
          </select>
          <fieldset class="choices">
            <legend>Events (none chosen: all)</legend>
            {EVENT_NAMES.map((name) => (
              <label class="inline" key={name}>
                <input
                  type="checkbox"
                  checked={events.includes(name)}
                  onChange={() => setEvents((chosen) => toggled(chosen, name))}
                />
                {name}
              </label>
            ))}
          </fieldset>
          {formError && (
            <p id="webhook-error" class="field-error" role="alert">
              {formError}
            </p>
          )}
          <div class="actions">
            <button type="submit" class="primary">
              Add webhook
            </button>
          </div>
        </form>
      </details>
    </section>
  )
}
