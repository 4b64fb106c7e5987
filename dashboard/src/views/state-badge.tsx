import type { SessionView } from '../../../shared/schemas.js'

const LABELS: Record<SessionView['status'], string> = {
  created: 'Created',
  connecting: 'Connecting',
  qr: 'Waiting for scan',
  pairing: 'Waiting for code',
  open: 'Connected',
  reconnecting: 'Reconnecting',
  closed: 'Stopped',
  logged_out: 'Logged out',
  replaced: 'Replaced',
}

const tone = (status: SessionView['status']) =>
  status === 'open'
    ? 'ok'
    : status === 'logged_out' || status === 'replaced'
      ? 'bad'
      : status === 'closed'
        ? 'idle'
        : 'wait'

export const StateBadge = ({ session }: { session: Pick<SessionView, 'status'> }) => (
  <span class={`badge badge-${tone(session.status)}`} data-state={session.status}>
    {LABELS[session.status]}
  </span>
)
