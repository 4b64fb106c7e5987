import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { productEnv, resolvePort } from './product-process.js'

const sim = { wsUrl: 'ws://127.0.0.1:4000/ws/chat', uploadHost: '127.0.0.1:4001', caCertPath: '/tmp/ca.pem' }

describe('productEnv', () => {
  it('wires the product to the simulator and its own data folder, never to real data or keys', () => {
    const env = productEnv(
      {
        PATH: '/bin',
        DATA_DIR: '/srv/real',
        LIBSQL_URL: 'libsql://real.example',
        LIBSQL_AUTH_TOKEN: 'token',
        API_KEY: 'a-real-key-of-16-chars',
        AUTH_ENCRYPTION_KEY: 'k',
        PUBLIC_URL: 'https://real.example',
        RATE_LIMIT_MAX: '10',
      },
      { port: 3000, dataDir: '/tmp/demo', sim },
    )
    expect(env.AUTH_ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/)
    expect(env).toEqual({
      AUTH_ENCRYPTION_KEY: env.AUTH_ENCRYPTION_KEY,
      PATH: '/bin',
      RATE_LIMIT_MAX: '10',
      PORT: '3000',
      HOST: '127.0.0.1',
      DATA_DIR: '/tmp/demo',
      WA_WS_URL: sim.wsUrl,
      WA_UPLOAD_HOSTS: sim.uploadHost,
      NODE_EXTRA_CA_CERTS: sim.caCertPath,
      LOG_LEVEL: 'warn',
    })
  })

  it('keeps the HOST and LOG_LEVEL the caller chose', () => {
    const env = productEnv({ HOST: '0.0.0.0', LOG_LEVEL: 'debug' }, { port: 1, dataDir: '/d', sim })
    expect(env).toMatchObject({ HOST: '0.0.0.0', LOG_LEVEL: 'debug' })
  })
})

describe('resolvePort', () => {
  it('defaults to 3000, keeps a given port and rejects nonsense', async () => {
    expect(await resolvePort(undefined)).toBe(3000)
    expect(await resolvePort('8080')).toBe(8080)
    await expect(resolvePort('http')).rejects.toThrow('PORT must be 0-65535')
  })

  it('turns 0 into a port that is free to listen on', async () => {
    const port = await resolvePort('0')
    expect(port).toBeGreaterThan(0)
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    })
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
})
