import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ProductMetrics } from '../shared/metrics.js'
import { type ApiKeyMatcher, apiKeyFromHeaders } from '../shared/security/api-key.js'
import type { RateLimitDecision } from '../shared/security/rate-limit.js'
import { SCOPED_KEY_PREFIX } from '../shared/security/scoped-keys.js'
import { UNAUTHORIZED_BODY } from './middleware/api-key.js'
import type { RequestSource } from './middleware/client-address.js'
import { RATE_LIMITED_BODY, type RateLimit } from './middleware/rate-limit.js'
import {
  frameHeaders,
  type HeaderRecord,
  JSON_TYPE,
  REQUEST_ID,
  requestIdFor,
} from './middleware/response-frame.js'
import { SessionParams, StatusParams } from './schemas.js'
import type { Services } from './types.js'

/**
 * The four reads that make up almost all traffic (the health check, the session list, a session's
 * statuses, a status's viewers), answered before Hono when everything they need is in memory: the
 * read model's lists (serialized once per change), a synchronous key check and rate limit. What
 * Hono adds per request (a Context, the router, one async step per middleware and handler, the
 * adapter's promise path) costs more than these answers themselves.
 *
 * The answers are the ones the routes give: the same services build the bodies, the same pieces
 * the request pipeline runs build the headers, in the same order (rate limit, then the key check),
 * and `fast-reads.test.ts` compares both paths request by request. Anything else, and anything
 * these cannot answer from memory, goes to Hono untouched, before anything was counted: other
 * methods (HEAD too), a request with a body, a path Hono would decode (a `%`) or would not match
 * exactly, parameters the route's schema refuses (Hono answers the 400), an unknown session or
 * status (Hono answers the 404), a list not in memory (split mode's statuses and viewers are read
 * through their change version), a health probe round that is due, health with the key (it lists
 * the connectors).
 */

interface Answer {
  status: ContentfulStatusCode
  body: string | Uint8Array<ArrayBuffer>
}

/** A read answered here: what the runtime's adapter writes (a Web `Response`, or node:http directly). */
export interface FastAnswer {
  status: number
  /** Content-Type included. */
  headers: HeaderRecord
  body: string | Uint8Array<ArrayBuffer>
}

/** The parts of a request these reads look at, whatever the runtime's request object. */
export interface ReadRequest {
  method: string
  /** The full URL (Web `Request.url`) or the request target (node:http `req.url`). */
  url: string
  header(name: string): string | undefined
  /** What Hono's adapter passes as `env` (node:http: `{ incoming, outgoing }`), for the peer address. */
  env: unknown
}

interface FastRoute {
  /** The route as Hono names it (`c.req.routePath`), for the request metrics. */
  label: string
  /** Every route but health needs the key. */
  keyed: boolean
  /** The answer from memory, or undefined when Hono has to answer. */
  peek(authenticated: boolean): Answer | undefined
}

const ok = (body: Uint8Array<ArrayBuffer> | undefined): Answer | undefined => body && { status: 200, body }

/** Hono's path of a URL (`getPath`), or undefined where Hono would decode it or read a query. */
const plainPath = (url: string): string | undefined => {
  const start = url.charCodeAt(0) === 47 /* / */ ? 0 : url.indexOf('/', url.indexOf(':') + 4)
  if (start < 0) return undefined
  let end = start
  for (; end < url.length; end++) {
    const code = url.charCodeAt(end)
    // Encoded characters, and queries (pages, CSV, …): Hono decodes and validates those.
    if (code === 37 /* % */ || code === 63 /* ? */) return undefined
    if (code === 35 /* # */) break
  }
  return url.slice(start, end)
}

const SESSIONS_PREFIX = '/api/sessions/'

const routeFor = (path: string, services: Services): FastRoute | undefined => {
  if (path === '/api/health') {
    return {
      label: '/api/health',
      keyed: false,
      // With the key health also lists the connectors, which takes a look into Redis.
      peek: (authenticated) => (authenticated ? undefined : services.system.peekHealthAnswer()),
    }
  }
  if (path === '/api/sessions') {
    return { label: '/api/sessions', keyed: true, peek: () => ok(services.sessions.peekListAnswer()) }
  }
  if (!path.startsWith(SESSIONS_PREFIX)) return undefined
  const parts = path.slice(SESSIONS_PREFIX.length).split('/')
  if (parts.length === 2 && parts[1] === 'sent-statuses') {
    const params = SessionParams.safeParse({ sessionId: parts[0] })
    if (!params.success) return undefined
    const { sessionId } = params.data
    return {
      label: '/api/sessions/:sessionId/sent-statuses',
      keyed: true,
      peek: () => ok(services.statuses.peekListAnswer(sessionId)),
    }
  }
  if (parts.length === 3 && parts[1] === 'status-viewers') {
    const params = StatusParams.safeParse({ sessionId: parts[0], statusId: parts[2] })
    if (!params.success) return undefined
    const { sessionId, statusId } = params.data
    return {
      label: '/api/sessions/:sessionId/status-viewers/:statusId',
      keyed: true,
      peek: () => ok(services.statuses.peekViewersAnswer(sessionId, statusId)),
    }
  }
  return undefined
}

const respond = (
  headers: HeaderRecord,
  body: string | Uint8Array<ArrayBuffer>,
  status: number,
): FastAnswer => {
  headers['Content-Type'] = JSON_TYPE
  return { status, headers, body }
}

/** The answer as a Web `Response` (`app.fetch`: Workers, `app.request`, Node through Hono's adapter). */
export const toResponse = ({ status, headers, body }: FastAnswer): Response =>
  new Response(body, { status, headers })

export interface FastReadsOptions {
  services: Services
  keyMatcher: ApiKeyMatcher
  rateLimit: RateLimit
  metrics?: ProductMetrics | undefined
}

/** The answer, a promise of it, or undefined for Hono (a promise of undefined after an async key check). */
export type FastReads = (request: ReadRequest) => FastAnswer | Promise<FastAnswer | undefined> | undefined

export const createFastReads = ({
  services,
  keyMatcher,
  rateLimit,
  metrics,
}: FastReadsOptions): FastReads => {
  const counted = (route: FastRoute, answer: FastAnswer): FastAnswer => {
    metrics?.httpRequests.inc({ method: 'GET', route: route.label, status: answer.status })
    return answer
  }
  const answer = (
    request: ReadRequest,
    path: string,
    route: FastRoute,
    authenticated: boolean,
  ): FastAnswer | Promise<FastAnswer | undefined> | undefined => {
    // Without the key the answer is a 401 or a 429 whatever the data; with it the data must be here.
    const found = !route.keyed || authenticated ? route.peek(authenticated) : undefined
    if ((!route.keyed || authenticated) && !found) return undefined
    const header = request.header
    const source: RequestSource = { env: request.env, req: request }
    let decided: RateLimitDecision | Promise<RateLimitDecision> | null
    try {
      decided = rateLimit.count(source, 'GET', path, authenticated)
    } catch {
      // Hono's error handler answers a limiter that fails.
      return undefined
    }
    const finish = (decision: RateLimitDecision | null) => {
      const headers = frameHeaders(requestIdFor(header(REQUEST_ID)))
      if (decision && !rateLimit.apply(headers, decision)) {
        return counted(route, respond(headers, RATE_LIMITED_BODY, 429))
      }
      if (!found) {
        headers['WWW-Authenticate'] = 'Bearer'
        return counted(route, respond(headers, UNAUTHORIZED_BODY, 401))
      }
      return counted(route, respond(headers, found.body, found.status))
    }
    return decided instanceof Promise ? decided.then(finish, () => undefined) : finish(decided)
  }

  return (request) => {
    if (request.method !== 'GET') return undefined
    const path = plainPath(request.url)
    if (path === undefined) return undefined
    const route = routeFor(path, services)
    if (!route) return undefined
    // A body on a GET: the pipeline's Connection: close rule applies to its error answers.
    if (request.header('content-length') !== undefined || request.header('transfer-encoding') !== undefined)
      return undefined
    // Another representation than the JSON held in memory (the viewers as CSV).
    const accept = request.header('accept')
    if (accept?.includes('csv')) return undefined
    const candidate = apiKeyFromHeaders(request.header)
    // A scoped key's access depends on the route and session: the pipeline decides it.
    if (candidate?.startsWith(SCOPED_KEY_PREFIX)) return undefined
    const keyed = keyMatcher.matches(candidate)
    return typeof keyed === 'boolean'
      ? answer(request, path, route, keyed)
      : keyed.then((authenticated) => answer(request, path, route, authenticated))
  }
}
