/**
 * CPU profile of one read path of the product under the bench's load:
 *
 *   npx tsx tests/bench/support/profile-http.ts <name> <embedded|split> <empty|realistic> <path> [seconds]
 *   e.g. … before-sessions-100 embedded realistic sessions 6
 *
 * The product runs in its own process under `node --cpu-prof`; the load client (another process)
 * drives `path` (health, sessions, statuses, viewers, or a literal /api/… path) for `seconds`. The
 * profile lands in tests/bench/output/<name>.cpuprofile (open it in Chrome DevTools), the top
 * self-time functions in <name>.txt next to it.
 */
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BENCH_API_KEY, readPaths, type SeededIds } from './http-products.js'
import type { LoadResult } from './load-client.js'
import { firstLine, REPO_ROOT, spawnTs, stopChild, tsNodeArgs } from './processes.js'

const WARMUP_MS = 1_000

export const OUTPUT_DIR = fileURLToPath(new URL('../output/', import.meta.url))

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

const shortUrl = (url: string) => {
  const path = url.replace(/^file:\/\//, '')
  const modules = path.lastIndexOf('node_modules/')
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length)
  return path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length) : path
}

/** Where a function's time goes, coarsely: which package, or the product's own code. */
const areaOf = (url: string, name: string) => {
  if (!url) return name.startsWith('(') ? name : 'native'
  if (url.startsWith('node:')) return 'node internals'
  const short = shortUrl(url)
  if (short === url.replace(/^file:\/\//, '') && !url.includes('node_modules')) return 'other'
  const scoped = short.match(/^(@[^/]+\/[^/]+|[^/]+)\//)
  return url.includes('node_modules') ? (scoped?.[1] ?? short) : (short.split('/')[0] ?? short)
}

/**
 * Self time per function (µs, from the sample deltas) and per area, as a text table; only samples
 * taken inside `window` (profile clock, µs) when given.
 */
export const summarize = (profile: CpuProfile, title: string, window?: [number, number]): string => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfUs = new Map<number, number>()
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (window && (at < window[0] || at > window[1])) return
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta)
  })
  const functions = new Map<string, number>()
  const areas = new Map<string, number>()
  let busy = 0
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame
    if (!frame) continue
    const name = frame.functionName || '(anonymous)'
    if (name === '(idle)') continue
    busy += us
    const key = `${name}  ${frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ''}`
    functions.set(key, (functions.get(key) ?? 0) + us)
    const area = areaOf(frame.url, name)
    areas.set(area, (areas.get(area) ?? 0) + us)
  }
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %`
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
  return [
    title,
    `busy (non-idle) time: ${(busy / 1e6).toFixed(2)} s`,
    '',
    'self time by area',
    ...top(areas, 15).map(([area, us]) => `${pct(us)}  ${area}`),
    '',
    'top self-time functions',
    ...top(functions, 30).map(([key, us]) => `${pct(us)}  ${key}`),
    '',
  ].join('\n')
}

const main = async () => {
  const [name, mode = 'embedded', data = 'empty', pathName = 'health', seconds = '6'] = process.argv.slice(2)
  if (!name)
    throw new Error('usage: profile-http.ts <name> <embedded|split> <empty|realistic> <path> [seconds]')
  await mkdir(OUTPUT_DIR, { recursive: true })
  const profileDir = join(OUTPUT_DIR, `${name}.tmp`)
  await mkdir(profileDir, { recursive: true })
  const server = spawn(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      ...tsNodeArgs(new URL('./http-server-main.ts', import.meta.url), [mode, data]),
    ],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const { url, ids } = JSON.parse(await firstLine(server, 120_000)) as { url: string; ids: SeededIds }
  const mark = async () => {
    server.stdin?.write('mark\n')
    return Number(await firstLine(server, 10_000))
  }
  const paths = readPaths(ids) as Record<string, string | undefined>
  const path = pathName.startsWith('/') ? pathName : paths[pathName]
  if (!path) throw new Error(`no path ${pathName} with data ${data}`)
  const client = spawnTs(new URL('./load-client.ts', import.meta.url), [
    JSON.stringify({
      url: `${url}${path}`,
      headers: pathName === 'health' ? {} : { 'x-api-key': BENCH_API_KEY },
      concurrency: 64,
      warmupMs: WARMUP_MS,
      durationMs: Number(seconds) * 1_000,
    }),
  ])
  const answer = firstLine(client, Number(seconds) * 1_000 + 30_000)
  // The client starts counting after its warm-up; the profile keeps the same window.
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS + 300))
  const from = await mark()
  const load = loadavg()[0] ?? 0
  const result = JSON.parse(await answer) as LoadResult
  const to = await mark()
  await stopChild(client)
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
  server.stdin?.end()
  await exited
  const [file] = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error('the server wrote no profile')
  const target = join(OUTPUT_DIR, `${name}.cpuprofile`)
  await rename(join(profileDir, file), target)
  await rm(profileDir, { recursive: true, force: true })
  const profile = JSON.parse(await readFile(target, 'utf8')) as CpuProfile
  const title =
    `${name}: ${mode}, ${data} data, GET ${path} — ${Math.round(result.requestsPerSecond)} req/s, ` +
    `p99 ${result.p99Ms} ms, ${result.responseBytes} B/answer, load average ${load.toFixed(2)}`
  const text = summarize(profile, title, [from, to])
  await writeFile(join(OUTPUT_DIR, `${name}.txt`), text)
  process.stdout.write(text)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
