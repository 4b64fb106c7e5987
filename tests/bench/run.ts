/**
 * Runs the benchmarks and prints what they measured beside the design's budgets:
 *
 *   npm run bench                 all of them (about eleven minutes on two cores, eight of them idle sessions)
 *   npm run bench -- ingest http  only those whose file name contains one of the words
 *   npm run bench -- --strict     exit non-zero when a figure misses its target
 *
 * Each bench runs in its own Node process (with --expose-gc), so heap and JIT state of one cannot
 * colour another. A bench that crashes or overruns its time is reported and makes the run fail.
 */
import { spawn } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT, tsNodeArgs } from './support/processes.js'
import { type BenchResult, RESULT_TAG, verdict } from './support/report.js'

/** Cheapest first, so a quick look at the fast figures does not wait on session linking. */
const BENCHES: { file: string; timeoutMs: number }[] = [
  { file: 'command-roundtrip.bench.ts', timeoutMs: 60_000 },
  { file: 'viewer-ingest.bench.ts', timeoutMs: 90_000 },
  { file: 'http-throughput.bench.ts', timeoutMs: 300_000 },
  { file: 'failover.bench.ts', timeoutMs: 150_000 },
  { file: 'idle-session-memory.bench.ts', timeoutMs: 150_000 },
  // Links 110 accounts and starts 2,200 more sessions; about eight minutes on two cores.
  { file: 'idle-sessions.bench.ts', timeoutMs: 900_000 },
]

const args = process.argv.slice(2)
const strict = args.includes('--strict')
const filters = args.filter((arg) => !arg.startsWith('--'))
const selected = BENCHES.filter(({ file }) => !filters.length || filters.some((word) => file.includes(word)))

/** Runs one bench file; resolves with its results, or with the reason it did not finish. */
const runBench = (file: string, timeoutMs: number): Promise<{ results: BenchResult[]; failure?: string }> =>
  new Promise((resolve) => {
    const path = fileURLToPath(new URL(file, import.meta.url))
    const child = spawn(process.execPath, ['--expose-gc', ...tsNodeArgs(path)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
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

const printTable = (rows: string[][]) => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')
  const [header, ...body] = rows
  if (!header) return
  console.log(line(header))
  console.log(widths.map((width) => '-'.repeat(width)).join('  '))
  for (const row of body) console.log(line(row))
}

const load = loadavg()[0] ?? 0
console.log(`node ${process.version}, ${cpus().length} cores, load average ${load.toFixed(2)}`)
if (load > cpus().length / 2)
  console.log('warning: the machine is busy; throughput and latency figures will read low')

const started = performance.now()
const all: BenchResult[] = []
const failures: string[] = []
for (const { file, timeoutMs } of selected) {
  console.log(`\n▶ ${file}`)
  const benchStarted = performance.now()
  const { results, failure } = await runBench(file, timeoutMs)
  all.push(...results)
  if (failure) failures.push(`${file}: ${failure}`)
  console.log(`  (${((performance.now() - benchStarted) / 1000).toFixed(1)} s)`)
}

console.log(`\nResults (${((performance.now() - started) / 1000).toFixed(0)} s)\n`)
printTable([
  ['Bench', 'Metric', 'Measured', 'Target', 'Result', 'Notes'],
  ...all.map((result) => [
    result.bench,
    result.metric,
    formatValue(result.value, result.unit),
    formatTarget(result),
    verdict(result),
    result.note ?? '',
  ]),
])
for (const failure of failures) console.log(`\nFAILED ${failure}`)

const missed = all.filter((result) => verdict(result) === 'MISS').length
if (missed) console.log(`\n${missed} figure(s) missed their target`)
process.exitCode = failures.length || (strict && missed) ? 1 : 0
