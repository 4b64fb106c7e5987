import type { Context } from 'hono'
import type { StatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../types.js'

/**
 * What every answer carries besides its body: the request id, the secure headers and, for limited
 * requests, the RateLimit-* headers. They are collected in one plain object per request and given
 * to the Response once, when `c.json` builds it. Setting them one by one on the Response's Web
 * `Headers` (what hono's requestId and secureHeaders middleware do) costs a validation and a copy
 * per header per request, and a `Headers` object makes @hono/node-server convert it back into a
 * plain object; a plain object goes to `writeHead` as it is.
 */

/**
 * The secure headers of JSON answers: those that mean something for data an API returns (the
 * OWASP REST Security Cheat Sheet's set): no framing, no content sniffing, no cross-origin
 * embedding of the bytes, HTTPS only. Hono's other `secureHeaders()` defaults speak to documents
 * (opener policy, agent clusters, DNS prefetch, IE download prompts, Flash policies, the legacy XSS
 * filter) and only cost bytes on every answer: on the health check they were a third of its cost.
 */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Strict-Transport-Security': 'max-age=15552000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
})

/**
 * The secure headers of pages (the docs page): Hono's `secureHeaders()` defaults, as a constant
 * (`api/read-paths.test.ts` checks that both agree), with everything but
 * Cross-Origin-Embedder-Policy, which would block cross-origin resources of the docs page.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Origin-Agent-Cluster': '?1',
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=15552000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-DNS-Prefetch-Control': 'off',
  'X-Download-Options': 'noopen',
  'X-Frame-Options': 'SAMEORIGIN',
  'X-Permitted-Cross-Domain-Policies': 'none',
  'X-XSS-Protection': '0',
})

const REQUEST_ID_HEADER = 'X-Request-Id'
const MAX_REQUEST_ID_LENGTH = 64
const NOT_PLAIN = /[^\w\-=]/

/**
 * Client ids are echoed and logged: only short ones of [A-Za-z0-9_=-] are kept, others replaced
 * (hono's requestId rule with a 64-character limit).
 */
export const requestIdFor = (sent: string | undefined): string =>
  !sent || sent.length > MAX_REQUEST_ID_LENGTH || NOT_PLAIN.test(sent) ? crypto.randomUUID() : sent

export type HeaderRecord = Record<string, string>

export interface ResponseFrame {
  /** Headers every answer of this request gets; writers add to it until the answer is built. */
  readonly headers: HeaderRecord
  /** Answers JSON text or bytes serialized beforehand (a cached list), with the frame's headers. */
  respond(body: string | Uint8Array<ArrayBuffer>, status: StatusCode): Response
}

export const JSON_TYPE = 'application/json'

/** A request's header set to start with: the secure headers of JSON answers and its id. */
export const frameHeaders = (requestId: string): HeaderRecord => ({
  ...API_HEADERS,
  [REQUEST_ID_HEADER]: requestId,
})

/** The header the request id comes in and goes out with. */
export const REQUEST_ID = REQUEST_ID_HEADER

class Frame implements ResponseFrame {
  readonly headers: HeaderRecord
  /** The answer this frame built: it already carries the headers. */
  built: Response | null = null
  /** What `c.status` set, for a `c.json` without a status. */
  status: StatusCode = 200
  /** Once a handler sets headers of its own with `c.header`, Hono holds them and builds the answer. */
  honoOwnsHeaders = false

  constructor(
    private readonly c: Context<AppEnv>,
    id: string,
  ) {
    this.headers = frameHeaders(id)
  }

  respond(body: string | Uint8Array<ArrayBuffer>, status: StatusCode): Response {
    if (this.honoOwnsHeaders) {
      return this.c.body(body as never, status as never, { 'Content-Type': JSON_TYPE })
    }
    this.headers['Content-Type'] = JSON_TYPE
    this.built = new Response(body, { status, headers: this.headers })
    return this.built
  }
}

/**
 * Opens the frame of a request: picks its id, starts its header set and makes `c.json` build the
 * answer with it. Answers built some other way (`c.html`, a handler that set its own headers with
 * `c.header`, an extra header argument) go through Hono as before, and `closeFrame` adds the
 * frame's headers to them afterwards.
 */
export const openFrame = (c: Context<AppEnv>): ResponseFrame => {
  const id = requestIdFor(c.req.header(REQUEST_ID_HEADER))
  c.set('requestId', id)
  const frame = new Frame(c, id)
  c.set('frame', frame)
  const honoJson = c.json
  const honoHeader = c.header
  const honoStatus = c.status
  c.status = (code) => {
    frame.status = code
    honoStatus(code)
  }
  c.header = ((name: string, value?: string, options?: { append?: boolean }) => {
    frame.honoOwnsHeaders = true
    honoHeader(name, value, options)
  }) as typeof c.header
  c.json = ((object: unknown, arg?: StatusCode | ResponseInit, extra?: HeaderRecord) => {
    if (frame.honoOwnsHeaders || extra || (arg !== undefined && typeof arg !== 'number')) {
      return honoJson(object as never, arg as never, extra)
    }
    return frame.respond(JSON.stringify(object), arg ?? frame.status)
  }) as typeof c.json
  return frame
}

/**
 * After the handler: gives the frame's headers to an answer the frame did not build itself. The
 * secure headers are those of its kind (data or page) and win over the handler's; the rest
 * (request id, rate limit) only go where the answer has none of its own.
 */
export const closeFrame = (c: Context<AppEnv>, frame: ResponseFrame): void => {
  if (frame instanceof Frame && c.res === frame.built) return
  const target = c.res.headers
  // Only documents get the page set; data of any type (JSON, media bytes) gets the API's.
  const secure = target.get('content-type')?.startsWith('text/html') ? PAGE_HEADERS : API_HEADERS
  for (const name in secure) target.set(name, secure[name] as string)
  for (const name in frame.headers) {
    if (name === 'Content-Type' || name in API_HEADERS || target.has(name)) continue
    target.set(name, frame.headers[name] as string)
  }
}
