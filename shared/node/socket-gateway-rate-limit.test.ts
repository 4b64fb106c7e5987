import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { io, type Socket } from 'socket.io-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type EmbeddedServer, startEmbedded } from '../../embedded/embedded.js'
import { createFakeSocketFactory } from '../../tests/support/fake-wa-socket.js'
import { loadConfig } from '../config.js'
import { Messages } from '../errors.js'

/** Socket.IO handshakes and REST requests share one limiter: guessing keys is slow on both. */
describe('Socket.IO handshake rate limit', () => {
  let dataDir: string
  let server: EmbeddedServer
  const clients: Socket[] = []
  const ANON_MAX = 5

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-limit-'))
    server = await startEmbedded({
      config: loadConfig({
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        RATE_LIMIT_ANON_MAX: String(ANON_MAX),
      }),
      logger: pino({ level: 'silent' }),
      connector: { socketFactory: createFakeSocketFactory().factory },
    })
  })

  afterEach(async () => {
    for (const socket of clients.splice(0)) socket.disconnect()
    await server.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  /** Resolves 'connected' or the connect error's message. */
  const handshake = (auth: Record<string, string>) =>
    new Promise<string>((resolve) => {
      const socket = io(server.url, { auth, transports: ['websocket'], reconnection: false })
      clients.push(socket)
      socket.once('connect', () => resolve('connected'))
      socket.once('connect_error', (error) => resolve(error.message))
    })

  const rest = (path: string, apiKey?: string) =>
    fetch(`${server.url}${path}`, apiKey ? { headers: { 'x-api-key': apiKey } } : {}).then(
      (res) => res.status,
    )

  it('counts failed handshakes in the anonymous bucket and slows a burst of wrong keys down', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => handshake({ apiKey: `wrong-key-number-${i}-padding` })),
    )
    expect(answers.filter((a) => a === Messages.unauthorized)).toHaveLength(ANON_MAX)
    expect(answers.filter((a) => a === Messages.rateLimited)).toHaveLength(40 - ANON_MAX)
    // Same bucket as REST: anonymous requests are refused there too, keyed ones are not.
    expect(await rest('/api/sessions')).toBe(429)
    expect(await rest('/api/sessions', server.apiKey.key)).toBe(200)
    // The right key is never slowed down by strangers.
    expect(await handshake({ apiKey: server.apiKey.key })).toBe('connected')
  })

  it('refuses wrong keys with 429 wording once REST has used up the anonymous budget', async () => {
    for (let i = 0; i < ANON_MAX; i++) expect(await rest('/api/sessions')).toBe(401)
    expect(await handshake({ apiKey: 'another-wrong-key-here' })).toBe(Messages.rateLimited)
    expect(await handshake({})).toBe(Messages.rateLimited)
    expect(await handshake({ apiKey: server.apiKey.key })).toBe('connected')
  })
})
