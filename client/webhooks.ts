/**
 * Verifying a webhook delivery on the receiving side (Node 18+, Workers, browsers: WebCrypto).
 *
 *   const ok = await verifyWebhookSignature({
 *     secret: process.env.WEBHOOK_SECRET!,
 *     header: request.headers.get('x-webhook-signature'),
 *     body: await request.text(), // the raw body, before any JSON parsing
 *   })
 *
 * The header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */
import type { ServerEvents } from './events.js'

/** What a delivery's body holds: the event as Socket.IO clients get it, and where it came from. */
export type WebhookDelivery = {
  [E in keyof ServerEvents]: {
    /** The first delivery's id: the same on a redelivery, so receivers can drop repeats. */
    id: string
    event: E
    webhookId: string
    sessionId: string
    /** When the event happened (ISO). */
    createdAt: string
    data: ServerEvents[E]
  }
}[keyof ServerEvents]

export interface VerifyOptions {
  secret: string
  /** The `X-Webhook-Signature` header as received. */
  header: string | null | undefined
  /** The raw body as received. */
  body: string
  /** Oldest signature accepted, in seconds (default 300): a captured delivery cannot be replayed later. */
  toleranceSeconds?: number
  /** Unix seconds; default now. */
  now?: number
}

const toHex = (buffer: ArrayBuffer) =>
  Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('')

/** Comparison whose time does not depend on where the strings differ. */
const sameText = (a: string, b: string) => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

export const verifyWebhookSignature = async (options: VerifyOptions): Promise<boolean> => {
  const parts = new Map(
    (options.header ?? '').split(',').map((part) => {
      const at = part.indexOf('=')
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const
    }),
  )
  const timestamp = parts.get('t')
  const signature = parts.get('v1')
  if (!timestamp || !/^\d+$/.test(timestamp) || !signature) return false
  const now = options.now ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return false
  const encoder = new TextEncoder()
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(options.secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const expected = toHex(
    await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${options.body}`)),
  )
  return sameText(expected, signature.toLowerCase())
}
