/**
 * libsignal (used by Baileys for end-to-end encryption) prints whole session records with
 * `console.info` when it opens or closes a Signal session: private ratchet keys included. The
 * product must never log keys, so while a connector runs, console lines that libsignal starts with
 * one of these prefixes are dropped. Everything else passes through untouched.
 */
const LIBSIGNAL_PREFIXES = [
  'Closing session',
  'Opening session',
  'Removing old closed session',
  'Migrating session to',
  'Session already closed',
  'Closing open session in favor of incoming prekey bundle',
  'Closing stale open session',
  'Decrypted message with closed session',
  'Failed to decrypt message with any known session',
  'Session error:',
  'V1 session storage migration error',
  'Unhandled bucket type',
  'WARNING: Expected pubkey of length 33',
]

const METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const
type Method = (typeof METHODS)[number]

export const isLibsignalLine = (first: unknown): boolean =>
  typeof first === 'string' && LIBSIGNAL_PREFIXES.some((prefix) => first.startsWith(prefix))

let installs = 0
let originals: Partial<Record<Method, (...args: unknown[]) => void>> = {}

/** Installs the filter (nested installs are counted); returns the function that removes it. */
export const installSignalConsoleGuard = (): (() => void) => {
  if (installs++ === 0) {
    originals = {}
    for (const method of METHODS) {
      const original = console[method].bind(console)
      originals[method] = original
      console[method] = (...args: unknown[]) => {
        if (!isLibsignalLine(args[0])) original(...args)
      }
    }
  }
  let removed = false
  return () => {
    if (removed) return
    removed = true
    if (--installs > 0) return
    for (const method of METHODS) {
      const original = originals[method]
      if (original) console[method] = original
    }
    originals = {}
  }
}
