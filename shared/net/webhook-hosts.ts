/**
 * Whether a webhook URL names a host the operator listed in WEBHOOK_ALLOWED_HOSTS (`host` or
 * `host:port`), which may then be private or local. Used by the API when a webhook is registered
 * and by the connector at every delivery, so both apply the same rule.
 */
export const isAllowedWebhookHost = (url: URL, allowed: readonly string[]): boolean => {
  if (allowed.length === 0) return false
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const withPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return allowed.includes(host) || allowed.includes(withPort)
}
