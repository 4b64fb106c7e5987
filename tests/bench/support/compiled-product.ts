/**
 * The product as `npm start` runs it, for the start-up and restore benches: `node infra/build.mjs
 * --if-stale` once (untimed), then `node dist/node/embedded/main.js` in its own process, configured
 * by environment variables only and with no TypeScript loader, plus what those benches read from
 * outside: time to the first healthy answer and the resident set size (/proc/<pid>/status).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { productNodeArgs, REPO_ROOT, stopChild } from './processes.js'

export const COMPILED_ENTRY = join(REPO_ROOT, 'dist', 'node', 'embedded', 'main.js')

/** What `prestart` does: compiles the sources when they changed since the last build. */
export const buildIfStale = async (): Promise<void> => {
  await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'infra', 'build.mjs'), '--if-stale'], {
    cwd: REPO_ROOT,
  })
}

/** A loopback port that was free a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

/** A WebSocket URL on a closed port: connecting to it is refused at once. */
export const refusedWsUrl = async (): Promise<string> => `ws://127.0.0.1:${await freePort()}/ws/chat`

/** Resident set size of a running process, in bytes, as the kernel counts it. */
export const rssBytes = async (pid: number): Promise<number> => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = status.match(/^VmRSS:\s+(\d+)\s+kB$/m)?.[1]
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(kb) * 1024
}

export interface NodeProcess {
  child: ChildProcess
  pid: number
  url: string
  /** performance.now() right before the spawn. */
  spawnedAt: number
  /** The last lines it printed (stdout and stderr), for a failure's message. */
  output(): string
  stop(): Promise<void>
}

const OUTPUT_LINES = 200

/**
 * Spawns plain `node <script>` with only the environment given (and PATH/HOME), listening on a
 * fresh loopback port as `PORT`. Output is drained (a full pipe would stall the process) and kept.
 */
export const spawnNode = async (script: string, env: Record<string, string>): Promise<NodeProcess> => {
  const port = await freePort()
  const lines: string[] = []
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, [...productNodeArgs, script], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line)
      if (lines.length > OUTPUT_LINES) lines.shift()
    })
  }
  if (child.pid === undefined) throw new Error(`could not spawn ${script}`)
  return {
    child,
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    spawnedAt,
    output: () => lines.join('\n'),
    stop: () => stopChild(child),
  }
}

/** Starts the compiled product (build it first with `buildIfStale`). */
export const spawnProduct = (env: Record<string, string>): Promise<NodeProcess> =>
  spawnNode(COMPILED_ENTRY, env)

/**
 * Polls `GET /api/health` every few milliseconds until it answers 200; resolves with the time
 * since the spawn. Fails when the process exits or `timeoutMs` passes first.
 */
export const timeToHealthy = async (proc: NodeProcess, timeoutMs: number): Promise<number> => {
  const deadline = proc.spawnedAt + timeoutMs
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(
        `exited (${proc.child.exitCode ?? proc.child.signalCode}) before healthy:\n${proc.output()}`,
      )
    }
    const status = await fetch(`${proc.url}/api/health`, { signal: AbortSignal.timeout(2_000) })
      .then(async (response) => {
        await response.arrayBuffer()
        return response.status
      })
      .catch(() => 0)
    if (status === 200) return performance.now() - proc.spawnedAt
    if (performance.now() > deadline) {
      throw new Error(`not healthy within ${timeoutMs} ms (last status ${status}):\n${proc.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
