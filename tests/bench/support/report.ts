/**
 * What a bench file reports, and how. Each bench runs in its own process (so one bench's heap and
 * JIT state cannot colour another's) and prints its results as tagged JSON lines the runner collects.
 */

export interface Target {
  /** `min`: the value must reach the target; `max`: it must stay at or below it. */
  kind: 'min' | 'max'
  value: number
}

export interface BenchResult {
  bench: string
  metric: string
  value: number
  unit: string
  target?: Target
  /**
   * The bare figure this one is compared with, measured in the same run (bare node:http, bare
   * Baileys against the same simulator, bare Redis commands…), in the same unit as `value` when
   * `value` is not itself a ratio.
   */
  baseline?: { label: string; value: number; unit: string }
  /** Extra context printed beside the number (spread, counts, sizes). */
  note?: string
}

export const RESULT_TAG = '::bench-result::'

/**
 * Set by `npm run bench -- --smoke` (BENCH_SMOKE=1): each bench runs a tiny version of itself, so a
 * change that breaks a bench is found in CI; its figures are not judged.
 */
export const SMOKE = process.env.BENCH_SMOKE === '1'

/** `full` normally, `smoke` in a smoke run: sizes, counts and durations of a bench. */
export const bySize = <T>(full: T, smoke: T): T => (SMOKE ? smoke : full)

export const emit = (result: BenchResult): void => {
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`)
}

export const verdict = (result: BenchResult): 'PASS' | 'MISS' | '-' => {
  const { target } = result
  if (!target) return '-'
  const met = target.kind === 'min' ? result.value >= target.value : result.value <= target.value
  return met ? 'PASS' : 'MISS'
}

/** Progress for the human watching; stderr so it never mixes with result lines. */
export const log = (message: string): void => {
  process.stderr.write(`  ${message}\n`)
}

/** Nearest-rank percentile of an ascending array. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  if (!sorted.length) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

export interface LatencySummary {
  p50: number
  p99: number
  mean: number
  samples: number
}

/** Times `iterations` sequential calls of `run` (after `warmup` untimed ones), in milliseconds. */
export const measureLatency = async (
  run: () => Promise<unknown>,
  { iterations, warmup }: { iterations: number; warmup: number },
): Promise<LatencySummary> => {
  for (let i = 0; i < warmup; i++) await run()
  const samples = new Float64Array(iterations)
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint()
    await run()
    samples[i] = Number(process.hrtime.bigint() - start) / 1e6
  }
  const total = samples.reduce((sum, value) => sum + value, 0)
  samples.sort()
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean: total / iterations,
    samples: iterations,
  }
}

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits))
