/**
 * Runs the real product entry point (`embedded/main.ts`, what `npm start` runs) in a child process
 * wired to the simulator. A child process because Node reads NODE_EXTRA_CA_CERTS only at start: that
 * is how the product trusts the simulator's media host with TLS verification left on.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface SimulatorEndpoints {
  wsUrl: string
  uploadHost: string
  caCertPath: string
}

/**
 * Settings that could point the demo at real data or reuse a real key; the demo never inherits them
 * (its key is generated in its own data folder).
 */
const NOT_INHERITED = [
  'DATA_DIR',
  'LIBSQL_URL',
  'LIBSQL_AUTH_TOKEN',
  'API_KEY',
  'PUBLIC_URL',
  'AUTH_ENCRYPTION_KEY',
]

/** The product's environment: the caller's, minus data settings, plus the simulator wiring. */
export function productEnv(
  base: NodeJS.ProcessEnv,
  opts: { port: number; dataDir: string; sim: SimulatorEndpoints },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base }
  for (const name of NOT_INHERITED) delete env[name]
  return {
    ...env,
    PORT: String(opts.port),
    HOST: base.HOST || '127.0.0.1',
    DATA_DIR: opts.dataDir,
    WA_WS_URL: opts.sim.wsUrl,
    WA_UPLOAD_HOSTS: opts.sim.uploadHost,
    NODE_EXTRA_CA_CERTS: opts.sim.caCertPath,
    LOG_LEVEL: base.LOG_LEVEL || 'warn',
    // The demo's data is thrown away on every start, so a fresh key per run costs nothing and
    // shows the product the way it should run: credentials encrypted at rest.
    AUTH_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  }
}

/** PORT as given (default 3000); `0` picks a free port now, since the URL must be known to print it. */
export async function resolvePort(raw: string | undefined): Promise<number> {
  const port = raw?.trim() ? Number(raw) : 3000
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0-65535, not ${raw}`)
  if (port !== 0) return port
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port: free } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return free
}

export interface ProductProcess {
  url: string
  /** the API key once the product answers its health check; rejects if it exits or times out first */
  ready: Promise<string>
  /** resolves with the exit code (or signal name) when the product process ends */
  exited: Promise<number | string>
  /** SIGTERM (the product shuts down gracefully), SIGKILL if it is still running after the grace time */
  stop(): Promise<void>
}

export interface SpawnProductOptions {
  repoRoot: string
  /** from productEnv() */
  env: NodeJS.ProcessEnv
  port: number
  dataDir: string
  /** each line the product prints */
  onOutput(line: string): void
  readyTimeoutMs?: number
}

export function spawnProduct(opts: SpawnProductOptions): ProductProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(opts.repoRoot, 'embedded/main.ts')], {
    cwd: opts.repoRoot,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', opts.onOutput)
  }
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  const host = opts.env.HOST === '0.0.0.0' || opts.env.HOST === '::' ? '127.0.0.1' : opts.env.HOST
  const url = `http://${host?.includes(':') ? `[${host}]` : host}:${opts.port}`
  const ready = waitHealthy(url, exited, opts.readyTimeoutMs ?? 60_000).then(async () =>
    // The product generated it in the demo's data folder on this start.
    (await readFile(join(opts.dataDir, 'api-key'), 'utf8')).trim(),
  )
  return { url, ready, exited, stop: () => stopChild(child, exited) }
}

async function waitHealthy(url: string, exited: Promise<number | string>, timeoutMs: number): Promise<void> {
  let exitCode: number | string | undefined
  void exited.then((code) => {
    exitCode = code
  })
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the product exited (${exitCode}) before it was ready`)
    // Bounded: something else already listening on the port may never answer.
    const healthy = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.ok,
      () => false,
    )
    if (healthy) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`the product did not answer on ${url} within ${timeoutMs / 1000} s`)
}

async function stopChild(child: ChildProcess, exited: Promise<number | string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  // The product forces its own exit 15 s after a signal; this is only a backstop.
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(killer)
}
