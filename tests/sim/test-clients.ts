/**
 * Raw Baileys sockets pointed at a simulator, for the simulator's own end-to-end tests and for
 * any test that needs a real client without the product around it.
 */
import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import makeWASocket, {
  type AuthenticationState,
  type SocketConfig,
  type WASocket,
} from '@whiskeysockets/baileys'
import { afterEach, beforeEach } from 'vitest'
import { waitForUpdate } from './connection-updates.js'
import { silentLogger } from './logger.js'
import { makeMemoryAuthState } from './memory-keys.js'
import { WaSimulator } from './server.js'

export interface TestClientOptions extends Partial<SocketConfig> {
  auth?: AuthenticationState
}

/** Opens a Baileys socket against the simulator; uploads trust the simulator's CA via `fetchAgent`. */
export function connectClient(sim: WaSimulator, opts: TestClientOptions = {}): WASocket {
  const { auth = makeMemoryAuthState(), ...config } = opts
  return makeWASocket({
    waWebSocketUrl: sim.wsUrl,
    auth,
    logger: silentLogger,
    markOnlineOnConnect: false,
    connectTimeoutMs: 10_000,
    fetchAgent: new Agent({ ca: readFileSync(sim.caCertPath) }),
    ...config,
  })
}

export { waitForUpdate }

export const nextQr = async (sock: WASocket): Promise<string> =>
  (await waitForUpdate(sock, (u) => !!u.qr)).qr!

export const waitOpen = (sock: WASocket) => waitForUpdate(sock, (u) => u.connection === 'open')

/** Waits for the socket to close and returns Baileys' disconnect status code. */
export async function waitClosed(sock: WASocket, timeoutMs?: number): Promise<number | undefined> {
  const update = await waitForUpdate(sock, (u) => u.connection === 'close', timeoutMs)
  return (update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output
    ?.statusCode
}

export interface LinkedClient {
  sock: WASocket
  auth: AuthenticationState
}

/** Links a fresh client to `phone` by QR, lets the 515 restart happen and logs in again. */
export async function linkByQr(
  sim: WaSimulator,
  phone: string,
  opts: TestClientOptions = {},
): Promise<LinkedClient> {
  const auth = opts.auth ?? makeMemoryAuthState()
  const first = connectClient(sim, { ...opts, auth })
  const closed = waitClosed(first)
  await sim.scanQr(await nextQr(first), phone)
  const code = await closed
  if (code !== 515) throw new Error(`expected restart 515 after pairing, got ${code}`)
  const sock = connectClient(sim, { ...opts, auth })
  await waitOpen(sock)
  return { sock, auth }
}

/** Closes a socket quietly at the end of a test. */
export function closeClient(sock: WASocket | undefined): void {
  try {
    sock?.end(undefined)
  } catch {
    // already closed
  }
}

export interface SimulatorRun {
  /** This test's simulator (a fresh one per test). */
  readonly sim: WaSimulator
  /** Clients to close after the test. */
  readonly sockets: WASocket[]
}

/** Registers hooks that start a fresh simulator before each test and close it and its clients after. */
export function useSimulator(): SimulatorRun {
  let current: WaSimulator | undefined
  const sockets: WASocket[] = []
  beforeEach(async () => {
    current = await WaSimulator.start({ controlPort: false })
  })
  afterEach(async () => {
    for (const sock of sockets.splice(0)) closeClient(sock)
    await current?.stop()
  })
  return {
    get sim() {
      if (!current) throw new Error('the simulator starts in beforeEach')
      return current
    },
    sockets,
  }
}

/** Poll options for waits on Baileys events, which can sit in its buffer until the initial sync ends. */
export const eventually = { timeout: 15_000 }
