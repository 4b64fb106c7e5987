/**
 * Waiting on a Baileys socket's `connection.update` events. Free of test-runner imports, so the
 * benchmarks (plain Node processes) use it as the tests do.
 */
import type { ConnectionState, WASocket } from '@whiskeysockets/baileys'

/** Resolves with the first `connection.update` that satisfies `predicate`. */
export function waitForUpdate(
  sock: WASocket,
  predicate: (update: Partial<ConnectionState>) => boolean,
  timeoutMs = 15_000,
): Promise<Partial<ConnectionState>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.ev.off('connection.update', listener)
      reject(new Error('timed out waiting for connection.update'))
    }, timeoutMs)
    const listener = (update: Partial<ConnectionState>) => {
      if (!predicate(update)) return
      clearTimeout(timer)
      sock.ev.off('connection.update', listener)
      resolve(update)
    }
    sock.ev.on('connection.update', listener)
  })
}
