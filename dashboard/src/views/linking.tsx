import { useState } from 'preact/hooks'
import type { SessionView } from '../../../shared/schemas.js'
import type { Api } from '../api.js'
import { ErrorNote } from './error-note.js'

const groupCode = (code: string) => (code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code)

/**
 * While a session waits to be linked: the QR image or the pairing code, both replaced live as
 * WhatsApp refreshes them (`qr-code` / `pairing-code` events), with what to do on the phone.
 */
export const Linking = ({ api, session }: { api: Api; session: SessionView }) => {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  if (session.authMethod === 'qrcode') {
    return (
      <section class="card linking" aria-labelledby="link-title">
        <h2 id="link-title">Scan the QR code</h2>
        <div class="link-body">
          {session.qrCode ? (
            <img class="qr" src={session.qrCode} alt="QR code to link this session" data-testid="qr-image" />
          ) : (
            <div class="qr placeholder" aria-live="polite">
              Waiting for the QR code…
            </div>
          )}
          <ol class="steps">
            <li>Open WhatsApp on the phone.</li>
            <li>
              Go to <b>Settings → Linked devices → Link a device</b>.
            </li>
            <li>Point the camera at this code. It refreshes by itself every few seconds.</li>
          </ol>
        </div>
      </section>
    )
  }

  const requestCode = async () => {
    setBusy(true)
    setError(null)
    try {
      await api.requestPairingCode(session.sessionId)
    } catch (e) {
      setError((e as Error).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class="card linking" aria-labelledby="link-title">
      <h2 id="link-title">Enter the pairing code on the phone</h2>
      <div class="link-body">
        <output class="pairing-code" data-testid="pairing-code" aria-live="polite">
          {session.pairingCode ? groupCode(session.pairingCode) : 'Waiting for the code…'}
        </output>
        <ol class="steps">
          <li>Open WhatsApp on the phone with the number +{session.phoneNumber}.</li>
          <li>
            Go to <b>Settings → Linked devices → Link a device → Link with phone number instead</b>.
          </li>
          <li>Type this code. A new one appears here if it expires.</li>
        </ol>
      </div>
      <div class="actions">
        <button type="button" onClick={requestCode} disabled={busy}>
          Get a new code
        </button>
      </div>
      <ErrorNote message={error} />
    </section>
  )
}
