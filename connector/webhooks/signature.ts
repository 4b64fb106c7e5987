import { createHmac } from 'node:crypto'

/**
 * The signature scheme of deliveries (documented in the README, verified by `client/`):
 * `X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The
 * timestamp is signed with the body so a captured delivery cannot be replayed later with a new
 * time; receivers should refuse one whose `t` is more than a few minutes old.
 */
export const signatureHeader = (secret: string, timestampSeconds: number, body: string): string => {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')
  return `t=${timestampSeconds},v1=${digest}`
}
