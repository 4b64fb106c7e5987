/**
 * The dashboard's files (built by infra/build-dashboard.mjs into dist/dashboard), answered before
 * the API's pipeline: they are public, the same for everyone and held in memory, so they cost no
 * key check and no rate-limit budget (a page load is three requests). On Workers the platform's
 * static assets serve the same folder and this is not used.
 */

export interface DashboardFile {
  body: Uint8Array<ArrayBuffer>
  /** The same bytes gzip-compressed, when that is smaller. */
  gzip: Uint8Array<ArrayBuffer> | null
  contentType: string
  /** A strong validator of the bytes, quoted. */
  etag: string
  /** Hashed asset names never change content: cached for a year. The page itself is revalidated. */
  immutable: boolean
}

export interface DashboardAssets {
  /** The file served at this path (`/` is the page), if any. */
  file(path: string): DashboardFile | undefined
  /** Headers every dashboard answer carries (its security policy), from the build's `_headers`. */
  headers: Readonly<Record<string, string>>
}

const REVALIDATE = 'no-cache'
const FOREVER = 'public, max-age=31536000, immutable'

const pathOf = (url: string): string => {
  const start = url.charCodeAt(0) === 47 ? 0 : url.indexOf('/', url.indexOf('//') + 2)
  const end = url.search(/[?#]/)
  return start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end)
}

/** GET/HEAD of a dashboard file, answered; anything else is left to the API (undefined). */
export const serveDashboard = (
  assets: DashboardAssets,
  request: { method: string; url: string; header(name: string): string | undefined },
): Response | undefined => {
  if (request.method !== 'GET' && request.method !== 'HEAD') return undefined
  const path = pathOf(request.url)
  if (path.startsWith('/api/')) return undefined
  const file = assets.file(path)
  if (!file) return undefined
  const headers: Record<string, string> = {
    ...assets.headers,
    'Content-Type': file.contentType,
    'Cache-Control': file.immutable ? FOREVER : REVALIDATE,
    ETag: file.etag,
    Vary: 'Accept-Encoding',
  }
  const sentTags = request.header('if-none-match')
  if (sentTags?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    return new Response(null, { status: 304, headers })
  }
  const gzip = file.gzip && /\bgzip\b/.test(request.header('accept-encoding') ?? '') ? file.gzip : null
  if (gzip) headers['Content-Encoding'] = 'gzip'
  const body = gzip ?? file.body
  headers['Content-Length'] = String(body.byteLength)
  return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers })
}
