/**
 * What the benches that compare the product with bare Baileys share: the simulator's control API
 * on connections of their own, the embedded product in its own process (support/burst-product.ts)
 * with one linked session and a keyed client for its API, and a plain `makeWASocket` with memory
 * auth linked by QR to the same simulator, in the bench's own process.
 */
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { Agent, request as httpRequest } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import makeWASocket, { type UserFacingSocketConfig, type WASocket } from '@whiskeysockets/baileys'
import { installSignalConsoleGuard } from '../../../connector/signal-console-guard.js'
import { waitForUpdate } from '../../sim/connection-updates.js'
import { silentLogger } from '../../sim/logger.js'
import { makeMemoryAuthState } from '../../sim/memory-keys.js'
import type { BurstProductOptions } from './burst-product.js'
import { BENCH_API_KEY } from './fixtures.js'
import { firstLine, productNodeArgs, REPO_ROOT, stopChild, tsNodeArgs } from './processes.js'
import type { SimulatorProcess } from './simulator.js'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

/** Settings both sides of a comparison run with, in this process and in the product's. */
export const prepareProcess = (): void => {
  // tsx maps stack traces to the TypeScript sources, and Baileys takes a stack trace for every
  // stanza it sends (two per receipt ack): both sides would spend a fifth of a burst on source
  // maps, which `npm start` (plain node on the build) never does.
  process.setSourceMapsEnabled(false)
  // libsignal prints Signal sessions, keys included, when bare Baileys opens or closes one.
  installSignalConsoleGuard()
}

// ── the simulator ──────────────────────────────────────────────────────────────────────────────

/** Where the simulator listens: a `SimulatorProcess`, or its `info` handed to another process. */
export type SimulatorAddress = Pick<SimulatorProcess, 'info'>

/**
 * One call to the simulator's control API, on a connection of its own: the simulator can be busy
 * for seconds (decrypting a send for a thousand contacts), long enough for a kept-alive connection
 * to be closed under a request reusing it.
 */
export const simCall = <T>(
  sim: SimulatorAddress,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> =>
  new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const outgoing = httpRequest(
      `${sim.info.controlUrl}${path}`,
      {
        agent: false,
        method,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if ((response.statusCode ?? 500) >= 400) reject(new Error(`simulator ${path}: ${text}`))
          else resolve(JSON.parse(text) as T)
        })
        response.once('error', reject)
      },
    )
    outgoing.once('error', reject)
    outgoing.end(payload)
  })

export const createAccount = (sim: SimulatorProcess, phone: string) =>
  simCall(sim, 'POST', '/accounts', { phone })

/** Creates the accounts, a few at a time. */
export const createAccounts = async (sim: SimulatorProcess, phones: string[]): Promise<void> => {
  let next = 0
  const worker = async () => {
    while (next < phones.length) await createAccount(sim, phones[next++] as string)
  }
  await Promise.all(Array.from({ length: 16 }, worker))
}

// ── the product ────────────────────────────────────────────────────────────────────────────────

export interface ProductChild {
  url: string
  /** The product process (for /proc/<pid>/status). */
  pid: number
  /** The phone number of the linked account. */
  owner: string
  sessionId: string
  /** CPU time the product's process has used so far (µs). */
  cpuMicros(): Promise<number>
  stop(): Promise<void>
}

/**
 * The product (embedded, or split: API and one connector over Redis) with one session linked to
 * `owner`, in its own process (with `BENCH_NODE_ARGS`, e.g. to profile it). `env`: settings on top
 * of the bench's own (support/burst-product.ts), e.g. `STATUS_CHUNK_SIZE`.
 */
export const startProduct = async (
  sim: SimulatorProcess,
  owner: string,
  { mode = 'embedded', env }: { mode?: 'embedded' | 'split'; env?: Record<string, string> } = {},
): Promise<ProductChild> => {
  const options: BurstProductOptions = {
    mode,
    ...(env ? { env } : {}),
    dataDir: await mkdtemp(join(tmpdir(), 'wa-burst-')),
    wsUrl: sim.info.wsUrl,
    simControlUrl: sim.info.controlUrl,
    phone: owner,
  }
  const child = spawn(
    process.execPath,
    [
      ...productNodeArgs,
      ...tsNodeArgs(new URL('./burst-product.ts', import.meta.url), [JSON.stringify(options)]),
    ],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  try {
    const info = JSON.parse(await firstLine(child, 90_000)) as { url: string; sessionId: string }
    const cpuMicros = async () => {
      const answer = firstLine(child, 10_000)
      child.stdin?.write('cpu\n')
      return (JSON.parse(await answer) as { cpuMicros: number }).cpuMicros
    }
    return { ...info, pid: child.pid as number, owner, cpuMicros, stop: () => stopChild(child) }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

export const agent = new Agent({ keepAlive: true, maxSockets: 4 })

/**
 * One keyed request to the product's API; resolves with the envelope's `data`, when the answer
 * had arrived (before this process parsed it), its HTTP status and the whole envelope (`nextCursor`).
 */
export const request = <T>(
  product: ProductChild,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ data: T; receivedAt: number; status: number; body: Record<string, unknown> }> =>
  new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const outgoing = httpRequest(
      `${product.url}${path}`,
      {
        agent,
        method,
        headers: {
          'x-api-key': BENCH_API_KEY,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.once('end', () => {
          const receivedAt = performance.now()
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            data?: T
            error?: string
          } & Record<string, unknown>
          if ((response.statusCode ?? 500) >= 400)
            reject(new Error(`${method} ${path}: ${response.statusCode} ${json.error}`))
          else resolve({ data: json.data as T, receivedAt, status: response.statusCode ?? 200, body: json })
        })
        response.once('error', reject)
      },
    )
    outgoing.once('error', reject)
    outgoing.end(payload)
  })

export const api = <T>(
  product: ProductChild,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> => request<T>(product, method, path, body).then(({ data }) => data)

// ── bare Baileys ───────────────────────────────────────────────────────────────────────────────

/** Linking on a busy two-core machine can take a while. */
const LINK_STEP_MS = 30_000

/**
 * Links a plain Baileys client by QR through the simulator's control API, as the tests' `linkByQr`.
 * `config`: socket settings on top (e.g. a longer keep-alive).
 */
export const linkBare = async (
  sim: SimulatorAddress,
  owner: string,
  config: Partial<UserFacingSocketConfig> = {},
): Promise<WASocket> => {
  const auth = makeMemoryAuthState()
  const connect = () =>
    makeWASocket({
      waWebSocketUrl: sim.info.wsUrl,
      auth,
      logger: silentLogger,
      markOnlineOnConnect: false,
      ...config,
    })
  const first = connect()
  const closed = waitForUpdate(first, (u) => u.connection === 'close', LINK_STEP_MS)
  const { qr } = await waitForUpdate(first, (u) => !!u.qr, LINK_STEP_MS)
  await simCall(sim, 'POST', `/accounts/${owner}/scan-qr`, { qr })
  await closed
  const sock = connect()
  await waitForUpdate(sock, (u) => u.connection === 'open', LINK_STEP_MS)
  return sock
}
