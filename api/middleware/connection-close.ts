import type { Context } from 'hono'

const carriesBody = (header: (name: string) => string | undefined) => {
  if (header('transfer-encoding') !== undefined) return true
  const length = header('content-length')
  return length !== undefined && length.trim() !== '0'
}

/**
 * Ends the connection after an error answered to a request that has a body. Such answers mostly
 * come before the body was read (413 from Content-Length, 401 on an upload, 415, 429, …):
 * @hono/node-server then drains the unread rest for at most half a second and destroys the socket,
 * although the answer said keep-alive, so a client that reuses the connection loses its next
 * request. With `Connection: close` Node closes the socket right after the answer and the client
 * opens a fresh one. A reconnect after an error costs little; Workers drop the hop-by-hop header.
 * Runs on the final answer, whichever layer gave it.
 */
export const closeConnectionOnRejectedBody = (c: Context): void => {
  if (c.res.status >= 400 && carriesBody((name) => c.req.header(name))) c.header('Connection', 'close')
}
