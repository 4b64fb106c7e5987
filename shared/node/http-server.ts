import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { FastAnswer, FastReads, ReadRequest } from '../../api/fast-reads.js'
import type { Config } from '../config.js'
import { applyHttpGuards, httpServerOptions } from './http-guards.js'

export interface ListeningServer {
  server: HttpServer
  port: number
  /**
   * Installs the slow-client guards. Call it after Socket.IO attached (if it does): Socket.IO takes
   * over the request listeners present when it attaches, so a guard added before it never sees
   * its long-polling requests.
   */
  guard(): void
  close(): Promise<void>
}

type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>

/** A Host header Hono's adapter takes as it is (its own rule); others it checks, so they go there. */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/

const send = (res: ServerResponse, { status, headers, body }: FastAnswer) => {
  // As Hono's adapter does for a body it holds whole: a length, not chunked framing.
  headers['Content-Length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength)
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * node:http's listener for a Hono app: the app's hot reads (`api/fast-reads.ts`) are written to
 * the response directly; every other request, and a read those cannot answer, goes through Hono's
 * Node adapter. A Web `Request` and `Response` per request, and the adapter's copying between them
 * and node:http, cost about as much as the whole answer of a health check.
 */
export const requestListener = (
  fetch: FetchHandler,
  fastReads: FastReads | undefined,
  hostname?: string,
): ((req: IncomingMessage, res: ServerResponse) => void) => {
  const hono = getRequestListener(fetch, hostname === undefined ? {} : { hostname })
  if (!fastReads) return (req, res) => void hono(req, res)
  return (req, res) => {
    const headers = req.headers
    const url = req.url
    if (url?.charCodeAt(0) !== 47 || !PLAIN_HOST.test(headers.host ?? '')) return void hono(req, res)
    const read: ReadRequest = {
      method: req.method ?? 'GET',
      url,
      header: (name) => {
        const value = headers[name.toLowerCase()]
        return Array.isArray(value) ? value.join(', ') : value
      },
      // What Hono's adapter passes as `env`, so the peer address is read the same way.
      env: { incoming: req, outgoing: res },
    }
    const answered = fastReads(read)
    if (answered === undefined) return void hono(req, res)
    if (!(answered instanceof Promise)) return send(res, answered)
    answered.then(
      (found) => (found ? send(res, found) : void hono(req, res)),
      () => void hono(req, res),
    )
  }
}

/**
 * An HTTP server on PORT/HOST for a Hono app (or any fetch handler), with the slow-client limits.
 * `fastReads` is the app's own (`createApp` attaches it).
 */
export const listen = async (
  fetch: FetchHandler,
  config: Config,
  fastReads?: FastReads,
): Promise<ListeningServer> => {
  const server = await new Promise<HttpServer>((resolve, reject) => {
    const s = createServer(httpServerOptions(config), requestListener(fetch, fastReads, config.HOST))
    s.once('error', reject)
    s.listen(config.PORT, config.HOST, () => resolve(s))
  })
  let guarded = false
  return {
    server,
    port: (server.address() as AddressInfo).port,
    guard() {
      if (guarded) return
      guarded = true
      applyHttpGuards(server, config)
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections?.()
      }),
  }
}
