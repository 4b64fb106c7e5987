import type { AuthenticationCreds } from '@whiskeysockets/baileys'
import QRCode from 'qrcode'
import { jidUser, normalizeUserJid } from './jid.js'

/** Disconnect codes Baileys reports in `lastDisconnect.error.output.statusCode`. */
export const DisconnectCode = {
  loggedOut: 401,
  timedOut: 408,
  connectionClosed: 428,
  connectionReplaced: 440,
  restartRequired: 515,
} as const

/** What the runtime does after a socket closes. */
export type CloseAction =
  /** Pairing just succeeded: open a new socket with the same auth state at once. */
  | 'restart'
  /** The phone unlinked this device: wipe creds, stay down. */
  | 'logged_out'
  /** Another client took the session over: stay down rather than fight it in a loop. */
  | 'replaced'
  /** Anything else is treated as transient: reconnect with backoff. */
  | 'retry'

export const closeAction = (statusCode: number | undefined, newLoginSeen: boolean): CloseAction => {
  if (statusCode === DisconnectCode.loggedOut) return 'logged_out'
  if (statusCode === DisconnectCode.connectionReplaced) return 'replaced'
  // After pair-success the server ends the stream (515) and the next socket logs in at once.
  if (newLoginSeen) return 'restart'
  // A 515 at any other time goes through backoff, so a server repeating it cannot spin us.
  return 'retry'
}

/** The status code of a Baileys close error (a Boom), if any. */
export const disconnectStatusCode = (error: unknown): number | undefined => {
  if (!error || typeof error !== 'object') return undefined
  const output = (error as { output?: { statusCode?: unknown } }).output
  return typeof output?.statusCode === 'number' ? output.statusCode : undefined
}

/** A short description of a close error that is safe to store and show (no payloads). */
export const describeDisconnect = (error: unknown, statusCode: number | undefined): string => {
  const message = error instanceof Error ? error.message : 'Connection closed'
  return statusCode ? `${message} (${statusCode})` : message
}

/**
 * Whether the creds belong to a linked device. `creds.me` alone is not enough: requesting a pairing
 * code sets it before the phone has confirmed anything. `account` arrives with pair-success.
 */
export const isLinked = (creds: AuthenticationCreds | null | undefined): boolean =>
  !!creds?.me?.id && !!creds.account

/** Creds that started a pairing-code link that never finished: logging in with them cannot work. */
export const hasUnfinishedPairing = (creds: AuthenticationCreds | null | undefined): boolean =>
  !!creds?.me?.id && !creds.account

export interface OwnIdentity {
  /** Digits of the linked number, no device or domain. */
  ownNumber: string | null
  ownJid: string | null
  ownLid: string | null
}

export const ownIdentity = (creds: AuthenticationCreds | null | undefined): OwnIdentity => {
  const ownJid = normalizeUserJid(creds?.me?.id)
  return {
    ownNumber: jidUser(ownJid),
    ownJid,
    ownLid: normalizeUserJid(creds?.me?.lid),
  }
}

/** Renders the QR payload Baileys emits as a PNG data URL, ready for an `<img src>`. */
export const renderQrDataUrl = (qr: string): Promise<string> =>
  QRCode.toDataURL(qr, { errorCorrectionLevel: 'M', margin: 2, width: 320 })
