import { useState } from 'preact/hooks'

interface ConfirmButtonProps {
  label: string
  /** The question asked before acting, e.g. "Delete this session and all its data?". */
  question: string
  confirmLabel: string
  onConfirm: () => Promise<unknown> | undefined
  danger?: boolean
  small?: boolean
}

/** A destructive action asks first, in the page (no browser dialog), and can be cancelled. */
export const ConfirmButton = ({
  label,
  question,
  confirmLabel,
  onConfirm,
  danger,
  small,
}: ConfirmButtonProps) => {
  const [asking, setAsking] = useState(false)
  const [busy, setBusy] = useState(false)
  if (!asking) {
    return (
      <button
        type="button"
        class={[danger ? 'danger' : '', small ? 'small' : ''].join(' ').trim()}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    )
  }
  return (
    <span class="confirm">
      <span>{question}</span>
      <button
        type="button"
        class={small ? 'danger small' : 'danger'}
        disabled={busy}
        ref={(el) => el?.focus()}
        onClick={async () => {
          setBusy(true)
          try {
            await onConfirm()
          } finally {
            setBusy(false)
            setAsking(false)
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" class={small ? 'small' : ''} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  )
}
