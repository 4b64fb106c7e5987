/**
 * Driving idle-server.ts processes from a bench: start one, call its control API, run load-client
 * rounds against its health route and read the CPU time each request cost it.
 */

import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IdleServerOptions } from './idle-server.js'
import type { LoadOptions, LoadResult } from './load-client.js'
import { firstLine, productNodeArgs, REPO_ROOT, spawnTs, stopChild, tsNodeArgs } from './processes.js'
import { bySize } from './report.js'

export interface IdleProduct {
  url: string
  controlUrl: string
  stop(): Promise<void>
}

/** `POST /idle`: heap and RSS after forced GC, then event-loop delay over a quiet window. */
export interface IdleReading extends DelayReading {
  heapUsed: number
  rss: number
}

/** `POST /delay`: how late a 10 ms timer ran (ms). */
export interface DelayReading {
  delayP50Ms: number
  delayP99Ms: number
  delayMaxMs: number
}

/** `POST /timers`: timer callbacks over `ms`, by their period in ms. */
export interface TimerReading {
  total: number
  byPeriod: Record<string, number>
  ms: number
}

export const startIdleProduct = async (options: Omit<IdleServerOptions, 'dataDir'>): Promise<IdleProduct> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-idle-'))
  // --expose-gc: the server reads its heap after forced collections.
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      ...productNodeArgs,
      ...tsNodeArgs(new URL('./idle-server.ts', import.meta.url), [JSON.stringify({ ...options, dataDir })]),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  try {
    const info = JSON.parse(await firstLine(child, 60_000)) as { url: string; controlUrl: string }
    return { ...info, stop: () => stopChild(child) }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

/**
 * Calls the control API. A call whose connection failed is made again (twice at most): every
 * control call can be repeated (a repeated `/grow` waits for the first and finds the work done).
 */
export const control = async <T>(
  product: IdleProduct,
  path: string,
  body?: unknown,
  attempt = 0,
): Promise<T> => {
  let response: Response
  try {
    response = await fetch(`${product.controlUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch (error) {
    const reason = `${path}: ${(error as Error).message} (${String((error as Error).cause)})`
    if (attempt >= 2) throw new Error(reason)
    process.stderr.write(`  ${reason}; calling again\n`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    return control(product, path, body, attempt + 1)
  }
  const answer = (await response.json()) as T & { error?: string }
  if (!response.ok) throw new Error(`${path}: ${answer.error}`)
  return answer
}

export const LOAD_DEFAULTS = {
  concurrency: 32,
  warmupMs: bySize(500, 200),
  durationMs: bySize(1_200, 300),
}

/** One load run from a fresh client process. */
export const load = async (
  url: string,
  options: Partial<Omit<LoadOptions, 'url'>> = {},
): Promise<LoadResult> => {
  const full: LoadOptions = { ...LOAD_DEFAULTS, ...options, url }
  const child = spawnTs(new URL('./load-client.ts', import.meta.url), [JSON.stringify(full)])
  try {
    return JSON.parse(await firstLine(child, full.warmupMs + full.durationMs + 30_000)) as LoadResult
  } finally {
    await stopChild(child)
  }
}

export const rate = (result: LoadResult): number => Math.round(result.requestsPerSecond)

export interface Measured {
  rps: number
  /** CPU time the server spent per request, its background work included (µs). */
  cpuPerRequest: number
  /** GC pause time per request (µs), all kinds. */
  gcPerRequest: number
}

interface CpuReading {
  cpuMicros: number
  requests: number
  gc: Record<string, { count: number; ms: number }>
}

const gcMillis = (reading: CpuReading) => Object.values(reading.gc).reduce((sum, kind) => sum + kind.ms, 0)

/**
 * One load run against a server's health route: requests per second as the client saw them, and
 * the server's own CPU time per request, which other load on the machine hardly moves.
 */
export const measure = async (product: IdleProduct): Promise<Measured> => {
  const before = await control<CpuReading>(product, '/cpu')
  // A server too busy to answer within the client's time counts as 0 req/s, not as a crash.
  const result = await load(`${product.url}/api/health`).catch(() => null)
  const after = await control<CpuReading>(product, '/cpu')
  const requests = Math.max(1, after.requests - before.requests)
  return {
    rps: result ? rate(result) : 0,
    cpuPerRequest: (after.cpuMicros - before.cpuMicros) / requests,
    gcPerRequest: ((gcMillis(after) - gcMillis(before)) * 1000) / requests,
  }
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export interface Paired {
  /** median of the per-round req/s ratios (product ÷ baseline) */
  ratio: number
  /** median of the per-round CPU-per-request ratios (baseline ÷ product: higher is better) */
  cpuRatio: number
  bestBase: number
  bestUnder: number
  rounds: string
  baseCpu: number
  underCpu: number
  /** median GC pause time per request (µs) */
  baseGc: number
  underGc: number
}

/**
 * `rounds` load runs against each, alternating baseline and product, so outside load on a shared
 * machine falls on both alike; each ratio is the median of the per-round ratios.
 */
export const pairedRounds = async (
  baseline: IdleProduct,
  product: IdleProduct,
  rounds: number,
): Promise<Paired> => {
  const base: Measured[] = []
  const under: Measured[] = []
  for (let i = 0; i < rounds; i++) {
    base.push(await measure(baseline))
    under.push(await measure(product))
  }
  const paired = (value: (m: Measured) => number, i: number) =>
    value(under[i] as Measured) / value(base[i] as Measured)
  return {
    ratio: median(under.map((_, i) => paired((m) => m.rps, i))),
    cpuRatio: median(under.map((_, i) => 1 / paired((m) => m.cpuPerRequest, i))),
    bestBase: Math.max(...base.map((m) => m.rps)),
    bestUnder: Math.max(...under.map((m) => m.rps)),
    rounds: under.map((m, i) => `${m.rps}/${base[i]?.rps}`).join(', '),
    baseCpu: median(base.map((m) => m.cpuPerRequest)),
    underCpu: median(under.map((m) => m.cpuPerRequest)),
    baseGc: median(base.map((m) => m.gcPerRequest)),
    underGc: median(under.map((m) => m.gcPerRequest)),
  }
}
