import type { Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
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

/** An HTTP server on PORT/HOST for a fetch handler (a Hono app), with the slow-client limits. */
export const listen = async (
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>,
  config: Config,
): Promise<ListeningServer> => {
  const server = await new Promise<HttpServer>((resolve, reject) => {
    const s = serve(
      { fetch, port: config.PORT, hostname: config.HOST, serverOptions: httpServerOptions(config) },
      () => resolve(s as HttpServer),
    )
    s.once('error', reject)
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
