import type { KeyScope } from '../../shared/db/types.js'
import { appError } from '../../shared/errors.js'
import { mayUseSession, type ScopedKey } from '../../shared/security/scoped-keys.js'

/**
 * What a scoped API key needs for each route. `session`: `path` — the `{sessionId}` in the path
 * must be one of the key's; `all` — the key must be for every session (the route reaches across
 * sessions, or creates one); `any` — no session is involved (uploads), or the answer is narrowed to
 * the key's sessions (the session list). `admin-key`: only the configured API_KEY. The admin key
 * may do everything. A route missing here is refused to every scoped key.
 */
export type Access = { scope: KeyScope; session: 'path' | 'all' | 'any' } | 'admin-key' | 'public'

const read = (session: 'path' | 'all' | 'any' = 'path'): Access => ({ scope: 'read', session })
const send = (session: 'path' | 'all' | 'any' = 'path'): Access => ({ scope: 'send', session })
const admin = (session: 'path' | 'all' = 'path'): Access => ({ scope: 'admin', session })

/** Keyed by method and the route as the OpenAPI document writes it. */
export const ACCESS: Readonly<Record<string, Access>> = {
  'POST /api/sessions': admin('all'),
  'GET /api/sessions': read('any'),
  'DELETE /api/sessions/{sessionId}': admin(),
  'POST /api/sessions/{sessionId}/restart': admin(),
  'PUT /api/sessions/{sessionId}/phone-number': admin(),
  'GET /api/sessions/{sessionId}/connection-status': read(),
  'GET /api/sessions/{sessionId}/pairing-code': read(),
  'POST /api/sessions/{sessionId}/request-pairing-code': admin(),
  'GET /api/sessions/{sessionId}/qr-code': read(),
  'POST /api/sessions/{sessionId}/send-status': send(),
  'GET /api/sessions/{sessionId}/sent-statuses': read(),
  'GET /api/sessions/{sessionId}/status-viewers/{statusId}': read(),
  'DELETE /api/sessions/{sessionId}/delete-status/{statusId}': send(),
  // The job's session is checked by the route: another session's job is a 404 to the key.
  'GET /api/jobs/{jobId}': read('any'),
  'GET /api/sessions/{sessionId}/scheduled-statuses': read(),
  'DELETE /api/sessions/{sessionId}/scheduled-statuses/{scheduledId}': send(),
  'GET /api/sessions/{sessionId}/analytics/statuses/{statusId}': read(),
  'GET /api/sessions/{sessionId}/analytics/contacts': read(),
  'GET /api/sessions/{sessionId}/analytics/daily': read(),
  'GET /api/sessions/{sessionId}/contacts': read(),
  'POST /api/sessions/{sessionId}/audiences': send(),
  'GET /api/sessions/{sessionId}/audiences': read(),
  'DELETE /api/sessions/{sessionId}/audiences/{audienceId}': send(),
  'POST /api/upload-image': send('any'),
  'POST /api/upload-video': send('any'),
  'POST /api/uploads': send('any'),
  'PUT /api/uploads/{filename}': 'public',
  'GET /api/uploads/{filename}': read('any'),
  'GET /api/health': 'public',
  'GET /api/stats': read('all'),
  'GET /api/storage': read('all'),
  'POST /api/webhooks': admin('all'),
  'GET /api/webhooks': admin('all'),
  'GET /api/webhooks/{webhookId}': admin('all'),
  'PATCH /api/webhooks/{webhookId}': admin('all'),
  'DELETE /api/webhooks/{webhookId}': admin('all'),
  'GET /api/webhooks/{webhookId}/deliveries': admin('all'),
  'POST /api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver': admin('all'),
  'POST /api/keys': 'admin-key',
  'GET /api/keys': 'admin-key',
  'DELETE /api/keys/{keyId}': 'admin-key',
  'GET /metrics': 'admin-key',
  'GET /api/openapi.json': 'public',
  'GET /docs': 'public',
}

/** `/api/sessions/:sessionId` (Hono) → `/api/sessions/{sessionId}` (OpenAPI). */
const openApiPath = (routePath: string) => routePath.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

/** The session a path names (`/api/sessions/<id>/…`), decoded; null when it names none. */
const sessionInPath = (path: string): string | null => {
  const match = /^\/api\/sessions\/([^/]+)/.exec(path)
  if (!match?.[1]) return null
  try {
    return decodeURIComponent(match[1])
  } catch {
    return null
  }
}

/** Why `key` may not make this request (a 403), or null when it may. */
export const refusalFor = (key: ScopedKey, method: string, routePath: string, path: string) => {
  const verb = method === 'HEAD' ? 'GET' : method
  const access = ACCESS[`${verb} ${openApiPath(routePath)}`]
  if (access === 'public') return null
  if (access === undefined || access === 'admin-key') return appError('keyNeedsAdminKey')
  if (!key.scopes.has(access.scope)) return appError('keyLacksScope', access.scope)
  if (access.session === 'all' && key.sessionIds !== null) return appError('keyNeedsAllSessions')
  if (access.session === 'path') {
    const sessionId = sessionInPath(path)
    if (sessionId === null || !mayUseSession(key, sessionId)) return appError('keyOtherSession')
  }
  return null
}
