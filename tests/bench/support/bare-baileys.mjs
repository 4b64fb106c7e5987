/**
 * The floor the product's idle memory is compared with: Baileys loaded, one socket with in-memory
 * auth dialling WA_WS_URL (unreachable in the bench, so it fails and stays down), and a node:http
 * server answering 200 on PORT, then nothing. Plain JavaScript run by plain `node`, like the
 * compiled product, so neither carries a TypeScript loader:
 *
 *   PORT=… WA_WS_URL=ws://127.0.0.1:1/ws/chat node tests/bench/support/bare-baileys.mjs
 */
import { createServer } from 'node:http'
import makeWASocket, { initAuthCreds } from '@whiskeysockets/baileys'
import pino from 'pino'

/** Signal keys in a plain object: the smallest auth state Baileys accepts. */
const memoryKeys = () => {
  const stored = {}
  return {
    get: async (type, ids) => {
      const found = {}
      for (const id of ids) {
        const value = stored[type]?.[id]
        if (value !== undefined) found[id] = value
      }
      return found
    },
    set: async (data) => {
      for (const [type, values] of Object.entries(data)) {
        stored[type] ??= {}
        for (const [id, value] of Object.entries(values ?? {})) {
          if (value) stored[type][id] = value
          else delete stored[type][id]
        }
      }
    },
  }
}

const sock = makeWASocket({
  auth: { creds: initAuthCreds(), keys: memoryKeys() },
  logger: pino({ level: 'silent' }),
  printQRInTerminal: false,
  markOnlineOnConnect: false,
  ...(process.env.WA_WS_URL ? { waWebSocketUrl: process.env.WA_WS_URL } : {}),
})
// A refused connection closes the socket; the bare process keeps it closed, as idle as it gets.
sock.ev.on('connection.update', () => {})

createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end('{"status":"ok"}')
}).listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1')
