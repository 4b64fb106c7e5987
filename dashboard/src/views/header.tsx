import type { LiveState } from '../live.js'

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting…',
  online: 'Live',
  offline: 'Offline — reconnecting…',
  refused: 'Live events refused',
}

export const Header = ({ live, onSignOut }: { live: LiveState; onSignOut: () => void }) => (
  <header class="topbar">
    <a class="skip" href="#main">
      Skip to content
    </a>
    <a class="brand" href="#/">
      Status Tracker
    </a>
    <span class={`live live-${live}`} role="status" aria-live="polite" data-testid="live-state">
      <span class="dot" aria-hidden="true" />
      {LIVE_TEXT[live]}
    </span>
    <nav class="toplinks" aria-label="Links">
      <a href="/docs">API docs</a>
      <button type="button" class="link" onClick={onSignOut}>
        Sign out
      </button>
    </nav>
  </header>
)
