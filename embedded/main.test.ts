import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { io, type Socket } from 'socket.io-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

/**
 * `npm start` as a user runs it: the real entry point in its own process, signalled directly. (The
 * tsx command would stand between as a parent that SIGKILLs a child that has not confirmed a
 * signal within 60 ms, which a busy machine exceeds.)
 */
const NODE_TSX = ['--import', 'tsx', 'embedded/main.ts']

const run = (env: Record<string, string>, until: (out: string) => boolean) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, NODE_TSX, {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const check = () => {
      if (until(stdout)) child.kill('SIGTERM')
    }
    child.stdout.on('data', (d) => {
      stdout += d
      check()
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })

describe('npm start entry', () => {
  let dataDir: string
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'main-'))
  })
  afterEach(() => rm(dataDir, { recursive: true, force: true }))

  it('stops on a bad configuration with a message naming the variable', async () => {
    const result = await run({ DATA_DIR: dataDir, PORT: 'not-a-port', MAX_UPLOAD_MB: '-3' }, () => false)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('Invalid configuration: PORT')
    expect(result.stderr).toContain('Invalid configuration: MAX_UPLOAD_MB')
  })

  it('prints a generated API key once, then exits cleanly on SIGTERM', async () => {
    const first = await run({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, (out) =>
      out.includes('docs:'),
    )
    expect(first.code).toBe(0)
    const stored = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim()
    expect(first.stdout).toContain(`API key (generated, stored in ${join(dataDir, 'api-key')}): ${stored}`)

    const second = await run({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }, (out) =>
      out.includes('docs:'),
    )
    expect(second.code).toBe(0)
    expect(second.stdout).not.toContain(stored)
    expect(second.stdout).toContain('API key: stored in')
    // Info-level start-up output names no absolute path (only the line handing out a new key does,
    // and that one is not printed on this run) and carries no stack.
    expect(second.stdout + second.stderr).not.toContain(dataDir)
    expect(second.stdout + second.stderr).not.toMatch(/\n\s+at /)
    // Credentials are stored unencrypted here: said once, at start.
    expect(second.stdout.split('AUTH_ENCRYPTION_KEY is not set')).toHaveLength(2)
  })

  it('leaves the data folder owner-only (0700, files 0600, -wal/-shm included)', async () => {
    const result = await run({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, (out) =>
      out.includes('docs:'),
    )
    expect(result.code).toBe(0)
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700)
    const names = await readdir(dataDir)
    expect(names).toEqual(expect.arrayContaining(['api-key', 'tracker.db']))
    for (const name of names) {
      const mode = (await stat(join(dataDir, name))).mode & 0o777
      expect({ name, mode: mode.toString(8) }).toEqual({ name, mode: name === 'media' ? '700' : '600' })
    }
  })

  it('stops with exit code 1 and a message naming the file when the stored API key is too short', async () => {
    const path = join(dataDir, 'api-key')
    await writeFile(path, 'short\n', { mode: 0o600 })
    const startedAt = Date.now()
    const result = await run({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, () => false)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`${path} holds an API key shorter than 16 characters`)
    expect(Date.now() - startedAt).toBeLessThan(30_000)
    expect(await readFile(path, 'utf8')).toBe('short\n')
  })
})

/** A port that was free a moment ago, so both runs of the product can listen on the same one. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })

describe('npm start across a graceful restart', () => {
  const KEY = 'restart-test-key-0123456789'
  let dataDir: string
  const children: ChildProcess[] = []
  const clients: Socket[] = []

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'restart-'))
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
  })

  /** The product in its own process: node with tsx's loader, so a signal reaches the product itself. */
  const startProduct = (port: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'embedded/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEY: KEY,
        // A closed local port: sessions try to connect there and never reach WhatsApp.
        WA_WS_URL: 'ws://127.0.0.1:9/',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    let out = ''
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d) => {
        out += d
        if (out.includes('docs:')) resolve()
      })
      void exited.then((code) => reject(new Error(`the product exited (${code}) before it was ready`)))
    })
    child.stderr?.resume()
    return { ready, exited, child }
  }

  it('Socket.IO clients with default options reconnect by themselves and receive events again', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const first = startProduct(port)
    await first.ready

    // Default options (reconnection on, polling upgraded to websocket), and one that stays on polling.
    const byWebsocket = io(url, { auth: { apiKey: KEY } })
    const byPolling = io(url, { auth: { apiKey: KEY }, transports: ['polling'] })
    clients.push(byWebsocket, byPolling)
    const seen = new Map<Socket, { disconnects: string[]; created: string[] }>()
    for (const client of clients) {
      const log = { disconnects: [] as string[], created: [] as string[] }
      seen.set(client, log)
      client.on('disconnect', (reason) => log.disconnects.push(reason))
      client.on('session-created', (payload: { sessionId: string }) => log.created.push(payload.sessionId))
    }
    await vi.waitFor(
      () => {
        expect(byWebsocket.connected && byPolling.connected).toBe(true)
        expect(byWebsocket.io.engine.transport.name).toBe('websocket')
      },
      { timeout: 15_000, interval: 50 },
    )

    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    await vi.waitFor(
      () => {
        for (const log of seen.values()) expect(log.disconnects).toHaveLength(1)
      },
      { timeout: 15_000, interval: 50 },
    )
    for (const [client, log] of seen) {
      // A transport close, which clients retry; 'io server disconnect' would mean sent away for good.
      expect(log.disconnects[0]).toBe('transport close')
      expect(client.active).toBe(true)
    }

    const second = startProduct(port)
    await second.ready
    await vi.waitFor(() => expect(byWebsocket.connected && byPolling.connected).toBe(true), {
      timeout: 30_000,
      interval: 100,
    })
    const created = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        sessionId: 'after-restart',
        sessionName: 'After restart',
        authMethod: 'qrcode',
      }),
    })
    expect(created.status).toBe(201)
    await vi.waitFor(
      () => {
        for (const log of seen.values()) expect(log.created).toEqual(['after-restart'])
      },
      { timeout: 15_000, interval: 50 },
    )

    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})
