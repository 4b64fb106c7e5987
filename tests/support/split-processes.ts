/**
 * A split deployment as real processes, for tests and benches that need what only separate
 * processes show (a `kill -9`, a Redis that dies under every process at once, NODE_EXTRA_CA_CERTS
 * read at start): a `redis-server`, an s3rver, one libSQL file (WAL) every process opens, one API
 * (`ROLE=api`) and connectors (`ROLE=connector`, fixed `CONNECTOR_ID`s), each spawned as
 * `node --import tsx embedded/main.ts` (what `npm start` runs) and configured by environment
 * variables only. The simulator runs wherever the caller likes; processes reach it by URL.
 *
 * Child output is kept in memory (the last lines of each process) and printed only when asked
 * (`printLogs`, for a failed test), so a passing run stays quiet.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { freePort, RedisServer } from './redis-server.js'
import { S3TestServer } from './s3-server.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** What a product process needs to know about the simulator (see `tests/sim/README.md`). */
export interface SimulatorWiring {
  wsUrl: string
  uploadHost: string
  /** The CA that signed the upload host's certificate, trusted through NODE_EXTRA_CA_CERTS. */
  caCertPath: string
}

export interface SplitProcessesOptions {
  sim: SimulatorWiring
  /** Connector ids, one process each (default: connector-1 and connector-2). */
  connectorIds?: string[]
  /** Extra environment for every process (SESSION_LEASE_MS, STATUS_ACK_TIMEOUT_MS, …). */
  env?: Record<string, string>
  /** How long each process may take to become ready (default 45 s: tsx and Baileys load on busy cores). */
  readyTimeoutMs?: number
}

export interface ExitInfo {
  name: string
  code: number | null
  signal: NodeJS.Signals | null
}

/** Lines kept per process: enough to see what led up to a failure, bounded for long runs. */
const LOG_LINES = 3_000

interface Member {
  name: string
  role: 'api' | 'connector'
  port: number
  env: NodeJS.ProcessEnv
  child: ChildProcess | null
  exited: Promise<ExitInfo> | null
  /** Set while a kill or stop asked for the exit, so it is not counted as a crash. */
  expectingExit: boolean
  lines: string[]
}

/** Polls `check` until it holds; a poll loop, bounded by `timeoutMs`, that gives up early on `abort`. */
const waitUntil = async (
  what: string,
  check: () => Promise<boolean>,
  {
    timeoutMs,
    intervalMs = 100,
    abort,
  }: { timeoutMs: number; intervalMs?: number; abort?: () => string | null },
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const reason = abort?.()
    if (reason) throw new Error(`${what}: ${reason}`)
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Bounded: a port that accepts but never answers must not hold a poll up. */
const answers = async (url: string, accept: (response: Response) => Promise<boolean>): Promise<boolean> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
  try {
    return await accept(response)
  } finally {
    await response.body?.cancel().catch(() => {})
  }
}

export class SplitProcesses {
  readonly apiKey = `split-${randomBytes(12).toString('hex')}`
  private readonly members = new Map<string, Member>()
  private readonly crashes: ExitInfo[] = []
  private readonly readyTimeoutMs: number
  private readonly onExit = () => {
    // The test process is going away: children must not outlive it.
    for (const member of this.members.values()) member.child?.kill('SIGKILL')
  }

  private constructor(
    readonly redis: RedisServer,
    readonly s3: S3TestServer,
    readonly dataDir: string,
    readonly connectorIds: string[],
    options: SplitProcessesOptions,
  ) {
    this.readyTimeoutMs = options.readyTimeoutMs ?? 45_000
  }

  /** Starts Redis, S3, the API and the connectors (in parallel) and waits until all are ready. */
  static async start(options: SplitProcessesOptions): Promise<SplitProcesses> {
    const dataDir = await mkdtemp(join(tmpdir(), 'wst-split-'))
    const [redis, s3] = await Promise.all([RedisServer.start(), S3TestServer.start()])
    const connectorIds = options.connectorIds ?? ['connector-1', 'connector-2']
    const deployment = new SplitProcesses(redis, s3, dataDir, connectorIds, options)
    process.once('exit', deployment.onExit)
    try {
      const shared = deployment.sharedEnv(options)
      await deployment.add('api', 'api', shared)
      for (const id of connectorIds) await deployment.add(id, 'connector', { ...shared, CONNECTOR_ID: id })
      await Promise.all([...deployment.members.keys()].map((name) => deployment.spawn(name)))
      await Promise.all(connectorIds.map((id) => deployment.waitReady(id)))
      // Healthy, not just answering: Redis, S3 and at least one connector are up as the API sees them.
      await deployment.waitReady('api', { healthy: true })
    } catch (error) {
      deployment.printLogs()
      await deployment.stop()
      throw error
    }
    return deployment
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.member('api').port}`
  }

  connectorUrl(id: string): string {
    return `http://127.0.0.1:${this.member(id).port}`
  }

  isRunning(name: string): boolean {
    return this.member(name).child !== null
  }

  pid(name: string): number | undefined {
    return this.member(name).child?.pid
  }

  /** Exits nobody asked for (a crash, a failed start), oldest first. */
  unexpectedExits(): ExitInfo[] {
    return [...this.crashes]
  }

  /** Sends `signal` (default SIGKILL, as `kill -9`) and resolves once the process is gone. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo | null> {
    const member = this.member(name)
    const { child, exited } = member
    if (!child || !exited) return null
    member.expectingExit = true
    child.kill(signal)
    return exited
  }

  /** Starts a stopped process again (same port, id and environment) and waits until it is ready. */
  async start(name: string): Promise<void> {
    await this.spawn(name)
    await this.waitReady(name)
  }

  /** SIGKILL: Redis keeps nothing on disk, so it comes back empty. */
  killRedis(): Promise<void> {
    return this.redis.kill()
  }

  /** Starts Redis again on the same port, empty (a no-op stop first when it is still running). */
  restartRedis(): Promise<void> {
    return this.redis.restart()
  }

  /** The output kept for one process, or for all of them with a header per process. */
  logs(name?: string): string {
    const names = name ? [name] : [...this.members.keys()]
    return names
      .map(
        (n) =>
          `──── ${n} (last ${this.member(n).lines.length} lines) ────\n${this.member(n).lines.join('\n')}`,
      )
      .join('\n')
  }

  /** Writes every process's output to stderr: for a failed test, so the run shows what happened. */
  printLogs(): void {
    process.stderr.write(`${this.logs()}\n`)
  }

  /** SIGTERM everything (SIGKILL after a grace time), then Redis and S3, and removes the data. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.members.values()].map(async (member) => {
        if (!member.child || !member.exited) return
        const timer = setTimeout(() => member.child?.kill('SIGKILL'), 8_000)
        await this.kill(member.name, 'SIGTERM')
        clearTimeout(timer)
      }),
    )
    process.off('exit', this.onExit)
    await Promise.allSettled([this.redis.stop(), this.s3.close()])
    await rm(this.dataDir, { recursive: true, force: true })
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  private member(name: string): Member {
    const member = this.members.get(name)
    if (!member) throw new Error(`no process named ${name}`)
    return member
  }

  private sharedEnv(options: SplitProcessesOptions): NodeJS.ProcessEnv {
    // Only what a process needs to start Node and find tsx; nothing else of the test's environment.
    const inherited: NodeJS.ProcessEnv = {}
    for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
      if (process.env[name] !== undefined) inherited[name] = process.env[name]
    }
    return {
      ...inherited,
      HOST: '127.0.0.1',
      API_KEY: this.apiKey,
      LIBSQL_URL: `file:${join(this.dataDir, 'split.db')}`,
      REDIS_URL: this.redis.url,
      ...this.s3.env,
      // Every process must read the other's credentials: the same key everywhere.
      AUTH_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      WA_WS_URL: options.sim.wsUrl,
      WA_UPLOAD_HOSTS: options.sim.uploadHost,
      // Node reads it only at start; the upload host's certificate is then trusted with TLS checks on.
      NODE_EXTRA_CA_CERTS: options.sim.caCertPath,
      LOG_LEVEL: 'info',
      // Tests poll the REST API; the per-IP limit is not what they are about.
      RATE_LIMIT_MAX: '1000000',
      ...options.env,
    }
  }

  private async add(name: string, role: Member['role'], env: NodeJS.ProcessEnv): Promise<void> {
    const port = await freePort()
    this.members.set(name, {
      name,
      role,
      port,
      env: { ...env, ROLE: role, PORT: String(port), DATA_DIR: join(this.dataDir, name) },
      child: null,
      exited: null,
      expectingExit: false,
      lines: [],
    })
  }

  private async spawn(name: string): Promise<void> {
    const member = this.member(name)
    if (member.child) throw new Error(`${name} is already running`)
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'embedded/main.ts')], {
      cwd: REPO_ROOT,
      env: member.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    member.child = child
    member.expectingExit = false
    const keep = (line: string) => {
      member.lines.push(line)
      if (member.lines.length > LOG_LINES) member.lines.splice(0, member.lines.length - LOG_LINES)
    }
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', keep)
    }
    member.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        const info = { name, code, signal }
        keep(`[exited: ${signal ?? code}]`)
        if (!member.expectingExit) this.crashes.push(info)
        if (member.child === child) {
          member.child = null
          member.exited = null
        }
        resolve(info)
      })
    })
  }

  private waitReady(name: string, { healthy = false }: { healthy?: boolean } = {}): Promise<void> {
    const member = this.member(name)
    const child = member.child
    const url = member.role === 'api' ? `${this.apiUrl}/api/health` : `${this.connectorUrl(name)}/health`
    return waitUntil(
      `${name} ready`,
      () =>
        answers(url, async (response) => {
          if (response.status !== 200) return false
          if (!healthy) return true
          const body = (await response.json()) as { data?: { status?: string } }
          return body.data?.status === 'healthy'
        }),
      {
        timeoutMs: this.readyTimeoutMs,
        abort: () => (member.child === child && child ? null : `${name} exited before it was ready`),
      },
    )
  }
}
