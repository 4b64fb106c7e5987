/**
 * Runs the benchmarks and prints what they measured beside the design's budgets:
 *
 *   npm run bench                 all of them (about fourteen minutes on two cores, eight of them idle sessions)
 *   npm run bench -- ingest http  only those whose file name contains one of the words
 *   npm run bench -- --strict     exit non-zero when a figure misses its target
 *   npm run bench -- --smoke      every bench in a tiny version (BENCH_SMOKE=1): proves they run, judges nothing
 *
 * Each bench runs in its own Node process (with --expose-gc), so heap and JIT state of one cannot
 * colour another. A bench that crashes or overruns its time is reported and makes the run fail.
 * Every result, with the machine it ran on, also goes to tests/bench/output/results.json.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT, tsNodeArgs } from './support/processes.js'
import { type BenchResult, RESULT_TAG, verdict } from './support/report.js'

/** Cheapest first, so a quick look at the fast figures does not wait on session linking. */
const BENCHES: { file: string; timeoutMs: number }[] = [
  { file: 'command-roundtrip.bench.ts', timeoutMs: 60_000 },
  { file: 'viewer-ingest.bench.ts', timeoutMs: 90_000 },
  // 30 bursts of 5,000 views through the product (embedded, split) and bare Baileys; about a minute and a half.
  { file: 'receipt-burst.bench.ts', timeoutMs: 240_000 },
  // Statuses to 1,000 contacts from the product and from bare Baileys; about three and a half minutes.
  { file: 'status-send.bench.ts', timeoutMs: 480_000 },
  // A status to 10,000 contacts as a job beside bare Baileys' one stanza; about twelve minutes,
  // nearly all of it the simulator making the contacts' keys and decrypting both sends.
  { file: 'status-job.bench.ts', timeoutMs: 1_200_000 },
  { file: 'http-throughput.bench.ts', timeoutMs: 300_000 },
  { file: 'failover.bench.ts', timeoutMs: 150_000 },
  { file: 'idle-session-memory.bench.ts', timeoutMs: 150_000 },
  // Links 110 accounts and starts 2,200 more sessions; about eight minutes on two cores.
  { file: 'idle-sessions.bench.ts', timeoutMs: 900_000 },
  // The compiled product as `npm start` runs it, beside a bare Baileys process.
  { file: 'startup.bench.ts', timeoutMs: 180_000 },
  // 1,000 stored linked sessions logging in again at start.
  { file: 'restore.bench.ts', timeoutMs: 300_000 },
  // Logs 1,000 linked sessions in (creds registered up front), then counts their timers for a
  // minute; about five minutes on two cores.
  { file: 'idle-1000.bench.ts', timeoutMs: 900_000 },
]

/** A smoke run's bench that takes longer than this is broken, whatever its full-size time limit. */
const SMOKE_TIMEOUT_MS = 120_000

const args = process.argv.slice(2)
const strict = args.includes('--strict')
const smoke = args.includes('--smoke')
const filters = args.filter((arg) => !arg.startsWith('--'))
const selected = BENCHES.filter(({ file }) => !filters.length || filters.some((word) => file.includes(word)))

/** Runs one bench file; resolves with its results, or with the reason it did not finish. */
const runBench = (file: string, timeoutMs: number): Promise<{ results: BenchResult[]; failure?: string }> =>
  new Promise((resolve) => {
    const path = fileURLToPath(new URL(file, import.meta.url))
    const child = spawn(process.execPath, ['--expose-gc', ...tsNodeArgs(path)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...(smoke ? { BENCH_SMOKE: '1' } : {}) },
    })
    const results: BenchResult[] = []
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(RESULT_TAG)) results.push(JSON.parse(line.slice(RESULT_TAG.length)) as BenchResult)
      else process.stdout.write(`${line}\n`)
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) resolve({ results, failure: `timed out after ${timeoutMs / 1000} s` })
      else if (code !== 0) resolve({ results, failure: `exited with ${code ?? signal}` })
      else resolve({ results })
    })
  })

const formatValue = (value: number, unit: string) => {
  const text = Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en') : String(value)
  return unit === '×' ? `${text}×` : `${text} ${unit}`
}

const formatTarget = (result: BenchResult) => {
  if (!result.target) return ''
  return `${result.target.kind === 'min' ? '≥' : '≤'} ${formatValue(result.target.value, result.unit)}`
}

const formatBaseline = ({ baseline }: BenchResult) =>
  baseline ? `${baseline.label} ${formatValue(baseline.value, baseline.unit)}` : ''

/** Smoke figures come from runs far too small to mean anything: they are shown, never judged. */
const resultOf = (result: BenchResult) => (smoke && result.target ? 'smoke' : verdict(result))

/** The commit the run measured, and whether the tree had changes on top of it; null outside git. */
const gitCommit = (): { commit: string; dirty: boolean } | null => {
  try {
    const git = (...gitArgs: string[]) =>
      execFileSync('git', gitArgs, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    return { commit: git('rev-parse', 'HEAD').trim(), dirty: git('status', '--porcelain').trim() !== '' }
  } catch {
    return null
  }
}

const printTable = (rows: string[][]) => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')
  const [header, ...body] = rows
  if (!header) return
  console.log(line(header))
  console.log(widths.map((width) => '-'.repeat(width)).join('  '))
  for (const row of body) console.log(line(row))
}

const loadAtStart = loadavg()
const load = loadAtStart[0] ?? 0
console.log(`node ${process.version}, ${cpus().length} cores, load average ${load.toFixed(2)}`)
if (smoke) console.log('smoke run (BENCH_SMOKE=1): tiny versions of each bench, figures not judged')
if (load > cpus().length / 2)
  console.log('warning: the machine is busy; throughput and latency figures will read low')

const startedAt = new Date()
const started = performance.now()
const all: BenchResult[] = []
const failures: string[] = []
const runs: { file: string; seconds: number; failure: string | null }[] = []
for (const { file, timeoutMs } of selected) {
  console.log(`\n▶ ${file}`)
  const benchStarted = performance.now()
  const { results, failure } = await runBench(file, smoke ? Math.min(timeoutMs, SMOKE_TIMEOUT_MS) : timeoutMs)
  all.push(...results)
  if (failure) failures.push(`${file}: ${failure}`)
  const seconds = (performance.now() - benchStarted) / 1000
  runs.push({ file, seconds: Number(seconds.toFixed(1)), failure: failure ?? null })
  console.log(`  (${seconds.toFixed(1)} s)`)
}
const totalSeconds = (performance.now() - started) / 1000

console.log(`\nResults (${totalSeconds.toFixed(0)} s, load average ${(loadavg()[0] ?? 0).toFixed(2)})\n`)
printTable([
  ['Bench', 'Metric', 'Measured', 'Baseline', 'Target', 'Result', 'Notes'],
  ...all.map((result) => [
    result.bench,
    result.metric,
    formatValue(result.value, result.unit),
    formatBaseline(result),
    formatTarget(result),
    resultOf(result),
    result.note ?? '',
  ]),
])
for (const failure of failures) console.log(`\nFAILED ${failure}`)

const missed = smoke ? 0 : all.filter((result) => verdict(result) === 'MISS').length
if (missed) console.log(`\n${missed} figure(s) missed their target`)

const outputFile = join(fileURLToPath(new URL('./output/', import.meta.url)), 'results.json')
await mkdir(join(outputFile, '..'), { recursive: true })
await writeFile(
  outputFile,
  `${JSON.stringify(
    {
      date: startedAt.toISOString(),
      seconds: Number(totalSeconds.toFixed(1)),
      smoke,
      strict,
      filters,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      loadAverage: { start: loadAtStart, end: loadavg() },
      git: gitCommit(),
      benches: runs,
      failures,
      results: all.map((result) => ({ ...result, result: resultOf(result) })),
    },
    null,
    2,
  )}\n`,
)
console.log(`\nAll results (JSON): ${relative(process.cwd(), outputFile) || outputFile}`)
process.exitCode = failures.length || (strict && missed) ? 1 : 0
