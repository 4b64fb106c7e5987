import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Config } from '../config.js'
import { rateLimitKeyForAddress } from '../net/ip-ranges.js'

/**
 * Slow-client limits for a Node HTTP server, so a client cannot hold sockets open without sending:
 *
 * - headers must arrive within HTTP_HEADERS_TIMEOUT_MS of the connection or of the previous response
 *   (this also closes a connection that never sends anything), else Node answers 408 and closes;
 * - a whole request must arrive within HTTP_REQUEST_TIMEOUT_MS (0 = no limit);
 * - an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS;
 * - a request body must keep moving: at least HTTP_BODY_MIN_BYTES in every HTTP_BODY_STALL_MS, else
 *   the socket is closed. A long upload is fine as long as it makes progress, and a window in which
 *   the server itself is not reading (back-pressure) does not count against the client;
 * - at most HTTP_MAX_CONNECTIONS_PER_IP open connections per client address (an IPv6 /64 counts as
 *   one address); further ones are closed at once. Upgraded (Socket.IO websocket) connections count
 *   too, but no timeout above applies to them once upgraded: Socket.IO's heartbeat watches those.
 *
 * Node-only: Workers get these limits from the platform. Usage, for any Node entry:
 *
 *   const server = serve({ fetch, port, serverOptions: httpServerOptions(config) })
 *   // … attach Socket.IO, if any …
 *   applyHttpGuards(server, config)
 */
export type HttpGuardSettings = Pick<
  Config,
  | 'HTTP_HEADERS_TIMEOUT_MS'
  | 'HTTP_REQUEST_TIMEOUT_MS'
  | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'
  | 'HTTP_BODY_STALL_MS'
  | 'HTTP_BODY_MIN_BYTES'
  | 'HTTP_MAX_CONNECTIONS_PER_IP'
>

/**
 * Node checks the header and request timeouts only every `connectionsCheckingInterval` (30 s by
 * default), so a 10 s header timeout would in fact be up to 40 s. A quarter of the shortest timeout,
 * within 50 ms … 1 s, keeps them within 25 % of their value; the check walks only connections
 * with a request in progress, so running it every second costs next to nothing.
 */
const checkingInterval = (headersTimeout: number, requestTimeout: number) => {
  const shortest = requestTimeout > 0 ? Math.min(headersTimeout, requestTimeout) : headersTimeout
  return Math.min(1000, Math.max(50, Math.floor(shortest / 4)))
}

/**
 * Options Node reads only when the server is created (`connectionsCheckingInterval` cannot be
 * changed later): pass them as `serverOptions` to @hono/node-server's `serve`.
 */
export const httpServerOptions = (settings: HttpGuardSettings): ServerOptions => {
  const requestTimeout = settings.HTTP_REQUEST_TIMEOUT_MS
  // Node refuses a header timeout longer than the request timeout.
  const headersTimeout =
    requestTimeout > 0
      ? Math.min(settings.HTTP_HEADERS_TIMEOUT_MS, requestTimeout)
      : settings.HTTP_HEADERS_TIMEOUT_MS
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: settings.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: checkingInterval(headersTimeout, requestTimeout),
  }
}

/**
 * Applies the limits to a server created with {@link httpServerOptions}. Call it after attaching
 * Socket.IO: its engine takes over the `request` listeners present when it attaches and calls them
 * only for requests that are not its own, so a body watch registered before it would not see
 * Socket.IO's long-polling requests.
 */
export const applyHttpGuards = (server: Server, settings: HttpGuardSettings): void => {
  const options = httpServerOptions(settings)
  const interval = options.connectionsCheckingInterval ?? 30_000
  // Node keeps the creation option on the server (not in its typings); 30 s when not given.
  const checking = (server as Server & { connectionsCheckingInterval?: number }).connectionsCheckingInterval
  if (checking !== undefined && checking > interval) {
    throw new Error(
      'The HTTP server checks its timeouts too rarely: create it with httpServerOptions() as serverOptions',
    )
  }
  server.headersTimeout = options.headersTimeout ?? settings.HTTP_HEADERS_TIMEOUT_MS
  server.requestTimeout = options.requestTimeout ?? settings.HTTP_REQUEST_TIMEOUT_MS
  server.keepAliveTimeout = settings.HTTP_KEEP_ALIVE_TIMEOUT_MS
  if (settings.HTTP_MAX_CONNECTIONS_PER_IP > 0)
    capConnectionsPerAddress(server, settings.HTTP_MAX_CONNECTIONS_PER_IP)
  watchBodyProgress(server, settings.HTTP_BODY_STALL_MS, settings.HTTP_BODY_MIN_BYTES)
}

const capConnectionsPerAddress = (server: Server, cap: number) => {
  const open = new Map<string, number>()
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress
    if (address === undefined) return // already gone
    const key = rateLimitKeyForAddress(address)
    const count = open.get(key) ?? 0
    if (count >= cap) {
      // Before a byte is read: an answer would need a request to answer, which is what the cap refuses.
      socket.destroy()
      return
    }
    open.set(key, count + 1)
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1
      if (left > 0) open.set(key, left)
      else open.delete(key)
    })
  })
}

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')

/**
 * Counts the bytes the socket received in each window; `socket.bytesRead` is read, never a `data`
 * listener, which would take the body away from the handler. A paused socket or request means the
 * server has not consumed what it has, so the client could not have sent more; such a window is
 * not held against it.
 */
const watchBodyProgress = (server: Server, windowMs: number, minBytes: number) => {
  // In front of the listeners already there (the app's, or Socket.IO's engine, which calls the
  // app's), as the one `request` listener: with two, node:http's emit copies the listener list for
  // every request, which the health check pays for.
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[]
  server.removeAllListeners('request')
  server.on('request', function (this: Server, req: IncomingMessage, res: ServerResponse) {
    watch(req)
    for (const listener of listeners) listener.call(this, req, res)
  })

  const watch = (req: IncomingMessage) => {
    if (!hasBody(req) || req.complete) return
    const socket = req.socket
    let seen = socket.bytesRead
    // A window is judged only when the server kept up at both its ends: one that starts while the
    // server is behind (a handler that has not read yet) gives the client no chance to send, and
    // right after the server catches up its buffers are empty before the next read has counted.
    let behindBefore = false
    const timer = setInterval(() => {
      if (req.complete || socket.destroyed) return stop()
      const now = socket.bytesRead
      const behind = socket.isPaused() || req.isPaused() || req.readableLength >= req.readableHighWaterMark
      if (!behind && !behindBefore && now - seen < minBytes) {
        stop()
        socket.destroy()
        return
      }
      behindBefore = behind
      seen = now
    }, windowMs)
    timer.unref()
    // Removed again when done: a keep-alive socket carries many requests.
    const stop = () => {
      clearInterval(timer)
      req.off('end', stop)
      req.off('close', stop)
      socket.off('close', stop)
    }
    req.on('end', stop)
    req.on('close', stop)
    socket.on('close', stop)
  }
}
