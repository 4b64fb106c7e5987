import { useEffect, useMemo, useState } from 'preact/hooks'
import type { StatusJobProgress } from '../../../shared/events.js'
import type { SessionView } from '../../../shared/schemas.js'
import { type Api, ApiError, type SavedAudience, type SendResult, type SendStatusInput } from '../api.js'
import { BACKGROUNDS, FONTS, fontFor, MAX_AUDIENCE, parseAudience } from '../format.js'
import type { Live } from '../live.js'

type Kind = SendStatusInput['type']

const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'text', label: 'Text' },
  { kind: 'image', label: 'Image' },
  { kind: 'video', label: 'Video' },
  { kind: 'url', label: 'Media URL' },
]

type Outcome =
  | { state: 'sent'; result: SendResult }
  /** A big audience, sent chunk by chunk by the connector (`status-send-progress`). */
  | { state: 'job'; job: StatusJobProgress }
  | { state: 'scheduled'; at: string }
  | { state: 'failed'; title: string; message: string }
  | { state: 'sending'; step: string }

/** How the API's answer reads: sent, refused by the API, rejected by WhatsApp, or no answer in time. */
const failure = (error: unknown): Outcome => {
  const message = error instanceof Error ? error.message : String(error)
  if (!(error instanceof ApiError)) return { state: 'failed', title: 'Not sent', message }
  if (error.status === 504) return { state: 'failed', title: 'Timed out', message }
  if (/WhatsApp/.test(message) && error.status >= 500)
    return { state: 'failed', title: 'Rejected by WhatsApp', message }
  return { state: 'failed', title: 'Not sent', message }
}

/** Compose a status: text with colour and font (previewed), a file from disk, or a media URL. */
interface ComposeProps {
  api: Api
  live: Live
  session: SessionView
  /** After every send that reached the API, whatever it answered. */
  onSettled: () => void
}

export const Compose = ({ api, live, session, onSettled }: ComposeProps) => {
  const [kind, setKind] = useState<Kind>('text')
  const [text, setText] = useState('')
  const [background, setBackground] = useState(BACKGROUNDS[0]!)
  const [font, setFont] = useState(0)
  const [file, setFile] = useState<File | null>(null)
  // A file input cannot be cleared through its value: a new key gives a new, empty one.
  const [fileInput, setFileInput] = useState(0)
  const [url, setUrl] = useState('')
  const [caption, setCaption] = useState('')
  const [audienceText, setAudienceText] = useState('')
  // Empty: now. A local date and time (the browser's zone) sends it later.
  const [later, setLater] = useState('')
  const [repeat, setRepeat] = useState<'none' | 'daily' | 'weekly'>('none')
  const [progress, setProgress] = useState<number | null>(null)
  const [outcome, setOutcome] = useState<Outcome | null>(null)
  const audience = useMemo(() => parseAudience(audienceText), [audienceText])
  const [saved, setSaved] = useState<SavedAudience[]>([])
  const [contactNumbers, setContactNumbers] = useState<string[]>([])
  const [saveName, setSaveName] = useState('')
  const [saveNote, setSaveNote] = useState<{ text: string; error: boolean } | null>(null)
  useEffect(() => {
    api.audiences(session.sessionId).then(setSaved, () => setSaved([]))
    api.syncedContacts(session.sessionId).then(
      (contacts) => setContactNumbers(contacts.map((c) => c.number)),
      () => setContactNumbers([]),
    )
  }, [api, session.sessionId])

  const saveAudience = async () => {
    setSaveNote(null)
    try {
      const created = await api.saveAudience(session.sessionId, saveName.trim(), audience.numbers)
      setSaved((list) => [created, ...list])
      setSaveName('')
      setSaveNote({ text: `Saved "${created.name}" (${created.size}).`, error: false })
    } catch (error) {
      setSaveNote({ text: (error as Error).message, error: true })
    }
  }
  // A job's progress arrives after each chunk; read once too, for what went before the listener.
  const jobId = outcome?.state === 'job' ? outcome.job.jobId : null
  useEffect(() => {
    if (!jobId) return
    const follow = (job: StatusJobProgress) => {
      if (job.jobId !== jobId) return
      setOutcome((current) =>
        current?.state === 'job' &&
        current.job.jobId === jobId &&
        (current.job.state === 'running' || job.state !== 'running')
          ? { state: 'job', job }
          : current,
      )
      if (job.state !== 'running') onSettled()
    }
    const read = () => api.job(jobId).then(follow, () => {})
    const stops = [live.on('status-send-progress', follow), live.onResync(read)]
    read()
    return () => {
      for (const stop of stops) stop()
    }
  }, [api, live, jobId])
  const preview = useMemo(() => (file ? URL.createObjectURL(file) : null), [file])
  useEffect(() => () => (preview ? URL.revokeObjectURL(preview) : undefined), [preview])

  const tooMany = audience.numbers.length > MAX_AUDIENCE
  const ready =
    (kind === 'text' ? text.trim() !== '' : kind === 'url' ? url.trim() !== '' : file !== null) &&
    audience.invalid.length === 0 &&
    !tooMany &&
    outcome?.state !== 'sending' &&
    !(outcome?.state === 'job' && outcome.job.state === 'running')

  const submit = async (event: Event) => {
    event.preventDefault()
    if (!ready) return
    setProgress(null)
    try {
      let content = kind === 'text' ? text : url.trim()
      if (kind === 'image' || kind === 'video') {
        setOutcome({ state: 'sending', step: 'Uploading…' })
        setProgress(0)
        content = await api.upload(kind, file!, setProgress)
      }
      const body: SendStatusInput = {
        type: kind,
        content,
        ...(kind !== 'text' && caption.trim() ? { caption } : {}),
        ...(kind === 'text' ? { backgroundColor: background, font } : {}),
        ...(audience.numbers.length > 0 ? { targetNumbers: audience.numbers.join(',') } : {}),
      }
      if (later) {
        const scheduled = await api.scheduleStatus(session.sessionId, {
          ...body,
          sendAt: new Date(later).toISOString(),
          repeat,
        })
        setOutcome({ state: 'scheduled', at: scheduled.sendAt })
        onSettled()
        return
      }
      setOutcome({ state: 'sending', step: 'Sending to WhatsApp…' })
      const result = await api.sendStatus(session.sessionId, body)
      if ('jobId' in result) {
        const { message: _, ...started } = result
        setOutcome({
          state: 'job',
          job: {
            ...started,
            sessionId: session.sessionId,
            recipientsSent: 0,
            recipientsFailed: 0,
            chunksSent: 0,
            chunksFailed: 0,
          },
        })
      } else {
        setOutcome({ state: 'sent', result })
      }
      onSettled()
      if (kind === 'text') setText('')
      setFile(null)
      setFileInput((n) => n + 1)
    } catch (error) {
      setOutcome(failure(error))
      if (error instanceof ApiError && error.status !== 0) onSettled()
    }
  }

  const look = fontFor(font)
  return (
    <form class="card compose" onSubmit={submit} noValidate aria-labelledby="compose-title">
      <h2 id="compose-title">Post a status</h2>
      <div class="segmented" role="radiogroup" aria-label="Status type">
        {KINDS.map((option) => (
          <label key={option.kind} class={kind === option.kind ? 'on' : ''}>
            <input
              type="radio"
              name="status-type"
              value={option.kind}
              checked={kind === option.kind}
              onChange={() => {
                setKind(option.kind)
                setOutcome(null)
              }}
            />
            {option.label}
          </label>
        ))}
      </div>

      {kind === 'text' && (
        <div class="compose-grid">
          <div>
            <label for="status-text">Status text</label>
            <textarea
              id="status-text"
              rows={4}
              maxLength={65_536}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
            <fieldset class="swatches">
              <legend>Background</legend>
              {BACKGROUNDS.map((colour) => (
                <label key={colour} class={`swatch${colour === background ? ' on' : ''}`}>
                  <input
                    type="radio"
                    name="background"
                    value={colour}
                    checked={colour === background}
                    onChange={() => setBackground(colour)}
                    aria-label={`Background ${colour}`}
                  />
                  <span style={{ background: colour }} aria-hidden="true" />
                </label>
              ))}
              <label class="swatch custom">
                <span class="sr-only">Other colour</span>
                <input
                  type="color"
                  value={background}
                  onInput={(e) => setBackground(e.currentTarget.value)}
                  aria-label="Other background colour"
                />
              </label>
            </fieldset>
            <label for="status-font">Font</label>
            <select id="status-font" value={font} onChange={(e) => setFont(Number(e.currentTarget.value))}>
              {FONTS.map((option) => (
                <option key={option.id} value={option.id}>
                  {option.name}
                </option>
              ))}
            </select>
          </div>
          <figure class="preview" aria-label="Preview">
            <div
              class="status-text-preview"
              data-testid="text-preview"
              style={{ background, fontFamily: look.family, fontWeight: look.weight }}
            >
              {text || 'Your status'}
            </div>
            <figcaption class="muted small">Preview</figcaption>
          </figure>
        </div>
      )}

      {(kind === 'image' || kind === 'video') && (
        <div class="compose-grid">
          <div>
            <label for="status-file">{kind === 'image' ? 'Image (JPEG, PNG, WebP)' : 'Video (MP4)'}</label>
            <input
              key={fileInput}
              id="status-file"
              type="file"
              accept={kind === 'image' ? 'image/*' : 'video/*'}
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
            <label for="status-caption">Caption</label>
            <input id="status-caption" value={caption} onInput={(e) => setCaption(e.currentTarget.value)} />
          </div>
          <figure class="preview" aria-label="Preview">
            {preview && kind === 'image' && <img src={preview} alt="Preview of the chosen file" />}
            {preview && kind === 'video' && (
              <video src={preview} muted controls aria-label="Preview of the chosen video" />
            )}
            {!preview && <div class="placeholder">No file chosen</div>}
          </figure>
        </div>
      )}

      {kind === 'url' && (
        <div>
          <label for="status-url">Media URL (http or https)</label>
          <input
            id="status-url"
            type="url"
            value={url}
            placeholder="https://example.com/picture.jpg"
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          <label for="status-url-caption">Caption</label>
          <input id="status-url-caption" value={caption} onInput={(e) => setCaption(e.currentTarget.value)} />
        </div>
      )}

      <label for="status-audience">Audience</label>
      <textarea
        id="status-audience"
        rows={3}
        placeholder="Numbers with country code, separated by commas or new lines. Empty: only you."
        value={audienceText}
        onInput={(e) => setAudienceText(e.currentTarget.value)}
        aria-invalid={audience.invalid.length > 0 || tooMany ? 'true' : undefined}
        aria-describedby="audience-count"
      />
      <p id="audience-count" class="hint" data-testid="audience-count" aria-live="polite">
        {audience.numbers.length === 0
          ? 'No numbers: the status goes to your own number only.'
          : `${audience.numbers.length} contact${audience.numbers.length === 1 ? '' : 's'}`}
        {tooMany && ` — at most ${MAX_AUDIENCE} per status.`}
      </p>
      <div class="audience-tools">
        {contactNumbers.length > 0 && (
          <button type="button" class="small" onClick={() => setAudienceText(contactNumbers.join('\n'))}>
            All synced contacts ({contactNumbers.length})
          </button>
        )}
        {saved.length > 0 && (
          <select
            aria-label="Use a saved audience"
            value=""
            onChange={(e) => {
              const chosen = saved.find((a) => a.audienceId === e.currentTarget.value)
              if (chosen) setAudienceText(chosen.numbers.join('\n'))
            }}
          >
            <option value="">Use a saved audience…</option>
            {saved.map((a) => (
              <option key={a.audienceId} value={a.audienceId}>
                {a.name} ({a.size})
              </option>
            ))}
          </select>
        )}
        {audience.numbers.length > 0 && audience.invalid.length === 0 && (
          <span class="inline-save">
            <input
              aria-label="Name for this audience"
              placeholder="Name for this audience"
              value={saveName}
              onInput={(e) => setSaveName(e.currentTarget.value)}
            />
            <button type="button" class="small" disabled={!saveName.trim()} onClick={saveAudience}>
              Save audience
            </button>
          </span>
        )}
      </div>
      {saveNote && (
        <p class={saveNote.error ? 'field-error' : 'hint'} role={saveNote.error ? 'alert' : 'status'}>
          {saveNote.text}
        </p>
      )}
      {audience.invalid.length > 0 && (
        <p class="field-error" role="alert" data-testid="audience-invalid">
          Not a phone number (10–15 digits with country code): {audience.invalid.slice(0, 5).join(', ')}
          {audience.invalid.length > 5 && ` and ${audience.invalid.length - 5} more`}
        </p>
      )}

      <div class="when">
        <label for="status-later">Send later (optional)</label>
        <input
          id="status-later"
          type="datetime-local"
          step="1"
          value={later}
          onInput={(e) => setLater(e.currentTarget.value)}
        />
        {later && (
          <select
            aria-label="Repeat"
            value={repeat}
            onChange={(e) => setRepeat(e.currentTarget.value as typeof repeat)}
          >
            <option value="none">Once</option>
            <option value="daily">Every day</option>
            <option value="weekly">Every week</option>
          </select>
        )}
      </div>

      {outcome?.state === 'sending' && progress !== null && (
        <div class="progress">
          <label for="upload-progress">Upload</label>
          <progress id="upload-progress" max={1} value={progress} />
          <span>{Math.round(progress * 100)} %</span>
        </div>
      )}

      <div class="actions">
        <button type="submit" class="primary" disabled={!ready}>
          {outcome?.state === 'sending' ? outcome.step : later ? 'Schedule status' : 'Post status'}
        </button>
      </div>
      <div aria-live="polite" data-testid="send-outcome">
        {outcome?.state === 'sent' && (
          <p class="success">
            Sent to {outcome.result.contactCount} contact{outcome.result.contactCount === 1 ? '' : 's'}.
          </p>
        )}
        {outcome?.state === 'job' && <JobProgress job={outcome.job} />}
        {outcome?.state === 'scheduled' && (
          <p class="success">Scheduled for {new Date(outcome.at).toLocaleString()}.</p>
        )}
        {outcome?.state === 'failed' && (
          <p class="error" role="alert">
            <b>{outcome.title}:</b> {outcome.message}
          </p>
        )}
      </div>
    </form>
  )
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`

/** Where a big audience's send stands, chunk by chunk, and how it ended. */
const JobProgress = ({ job }: { job: StatusJobProgress }) => {
  const done = job.chunksSent + job.chunksFailed
  if (job.state === 'running') {
    return (
      <div class="progress" data-testid="job-progress">
        <label for="job-progress-bar">
          Sending to {plural(job.recipientsTotal, 'contact')} in {plural(job.chunksTotal, 'chunk')}:{' '}
          {job.recipientsSent} reached
        </label>
        <progress id="job-progress-bar" max={job.chunksTotal} value={done} />
        <span>
          {done} / {job.chunksTotal}
        </span>
      </div>
    )
  }
  if (job.state === 'completed') {
    return <p class="success">Sent to {plural(job.recipientsSent, 'contact')}.</p>
  }
  if (job.state === 'partial') {
    return (
      <p class="error" role="alert">
        <b>Partly sent:</b> {job.recipientsSent} of {job.recipientsTotal} contacts reached;{' '}
        {plural(job.chunksFailed, 'chunk')} WhatsApp did not accept.
      </p>
    )
  }
  return (
    <p class="error" role="alert">
      <b>{job.state === 'cancelled' ? 'Cancelled' : 'Not sent'}:</b>{' '}
      {job.state === 'cancelled'
        ? 'the status was deleted while it was being sent.'
        : 'WhatsApp accepted no chunk.'}
    </p>
  )
}
