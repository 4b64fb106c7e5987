import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root: children resolve `tsx` from here, whatever directory the run started in. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * Extra node flags for every product process a bench spawns, e.g. `BENCH_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=tests/bench/output"` to profile the product under a bench (NODE_OPTIONS refuses
 * --cpu-prof). The bare baselines that run inside the bench's own process do not get them.
 */
export const productNodeArgs: readonly string[] = (process.env.BENCH_NODE_ARGS ?? '')
  .split(' ')
  .filter(Boolean)

/** Node arguments that run a TypeScript file the way `npm run bench` does. */
export const tsNodeArgs = (file: string | URL, args: string[] = []): string[] => [
  '--import',
  'tsx',
  typeof file === 'string' ? file : fileURLToPath(file),
  ...args,
]

/** Starts a TypeScript script in a child Node process; stdout is piped, stderr shown. */
export const spawnTs = (
  file: string | URL,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  options: { stdin?: 'ignore' | 'pipe' } = {},
): ChildProcess =>
  spawn(process.execPath, tsNodeArgs(file, args), {
    cwd: REPO_ROOT,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })

/** Resolves with the first stdout line of `child` (or rejects when it exits before writing one). */
export const firstLine = (child: ChildProcess, timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => fail(new Error(`no output within ${timeoutMs} ms`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const newline = buffered.indexOf('\n')
      if (newline < 0) return
      cleanup()
      resolve(buffered.slice(0, newline))
    }
    const onExit = (code: number | null) => fail(new Error(`child exited (${code}) before answering`))
    const cleanup = () => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
    }
    const fail = (error: Error) => {
      cleanup()
      reject(error)
    }
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
  })

/** Stops a child this bench started and waits for it to be gone. */
export const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const forced = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(forced)
}
