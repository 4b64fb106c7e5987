import { useState } from 'preact/hooks'
import { type Api, ApiError } from '../api.js'
import { fieldOf } from '../field-errors.js'
import { sessionHref } from '../hooks.js'

const FIELDS = ['sessionId', 'sessionName', 'phoneNumber', 'authMethod'] as const

/** Creates a session; the API validates, and its message is shown beside the field it names. */
export const NewSession = ({ api, onCreated }: { api: Api; onCreated: () => void }) => {
  const [sessionId, setSessionId] = useState('')
  const [sessionName, setSessionName] = useState('')
  const [authMethod, setAuthMethod] = useState<'pairing' | 'qrcode'>('qrcode')
  const [phoneNumber, setPhoneNumber] = useState('')
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [busy, setBusy] = useState(false)

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setErrors({})
    try {
      await api.createSession({
        sessionId: sessionId.trim(),
        sessionName: sessionName.trim(),
        authMethod,
        ...(authMethod === 'pairing' ? { phoneNumber: phoneNumber.trim().replace(/^\+/, '') } : {}),
      })
      onCreated()
      location.hash = sessionHref(sessionId.trim())
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const sessionConflict = error instanceof ApiError && error.status === 409 ? 'sessionId' : undefined
      setErrors({ [fieldOf(message, FIELDS, sessionConflict) ?? 'form']: message })
    } finally {
      setBusy(false)
    }
  }

  const field = (name: (typeof FIELDS)[number]) => ({
    id: `new-${name}`,
    'aria-invalid': errors[name] ? ('true' as const) : undefined,
    'aria-describedby': errors[name] ? `new-${name}-error` : undefined,
  })
  const fieldError = (name: string) =>
    errors[name] && (
      <p id={`new-${name}-error`} class="field-error" role="alert">
        {errors[name]}
      </p>
    )

  return (
    <form class="card narrow" onSubmit={submit} noValidate aria-labelledby="new-title">
      <h2 id="new-title">Link a WhatsApp account</h2>
      <label for="new-sessionId">Session id</label>
      <input
        {...field('sessionId')}
        value={sessionId}
        onInput={(e) => setSessionId(e.currentTarget.value)}
        placeholder="personal"
        autocomplete="off"
      />
      <p class="hint">Letters, numbers, _ and -; used in every API path of this account.</p>
      {fieldError('sessionId')}
      <label for="new-sessionName">Name</label>
      <input
        {...field('sessionName')}
        value={sessionName}
        onInput={(e) => setSessionName(e.currentTarget.value)}
        placeholder="Personal WhatsApp"
      />
      {fieldError('sessionName')}
      <fieldset>
        <legend>Link with</legend>
        <label class="inline">
          <input
            type="radio"
            name="auth"
            value="qrcode"
            checked={authMethod === 'qrcode'}
            onChange={() => setAuthMethod('qrcode')}
          />
          QR code (scan with the phone)
        </label>
        <label class="inline">
          <input
            type="radio"
            name="auth"
            value="pairing"
            checked={authMethod === 'pairing'}
            onChange={() => setAuthMethod('pairing')}
          />
          Pairing code (type a code on the phone)
        </label>
      </fieldset>
      {fieldError('authMethod')}
      {authMethod === 'pairing' && (
        <>
          <label for="new-phoneNumber">Phone number of the account</label>
          <input
            {...field('phoneNumber')}
            value={phoneNumber}
            onInput={(e) => setPhoneNumber(e.currentTarget.value)}
            inputMode="numeric"
            placeholder="919812345678"
            autocomplete="tel"
          />
          <p class="hint">10–15 digits with the country code, no + or spaces.</p>
          {fieldError('phoneNumber')}
        </>
      )}
      {fieldError('form')}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create session'}
        </button>
        <a class="button" href="#/">
          Cancel
        </a>
      </div>
    </form>
  )
}
