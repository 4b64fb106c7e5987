/**
 * Command round trip API → connector → reply, embedded mode:
 *  - `InProcessBus.send` to a trivial handler (validation, envelope, timeout race, reply check);
 *  - the full HTTP app: `POST /api/sessions/{id}/restart` through `app.request` (middleware, key
 *    check, session lookup in libSQL, the bus round trip, JSON envelope).
 */
import { InProcessBus } from '../../shared/bus/in-process.js'
import { BENCH_API_KEY, createBenchApp, newSession } from './support/fixtures.js'
import { emit, log, measureLatency, round } from './support/report.js'

const BENCH = 'command round trip'

const busRoundTrip = async () => {
  const bus = new InProcessBus()
  bus.serve(async () => ({ ok: true }))
  const summary = await measureLatency(() => bus.send('s1', 'session.restart', { sessionId: 's1' }), {
    iterations: 100_000,
    warmup: 20_000,
  })
  await bus.close()
  log(`bus: p50 ${summary.p50.toFixed(4)} ms, p99 ${summary.p99.toFixed(4)} ms over ${summary.samples}`)
  emit({
    bench: BENCH,
    metric: 'InProcessBus.send p50',
    value: round(summary.p50, 4),
    unit: 'ms',
    target: { kind: 'max', value: 0.2 },
    note: `p99 ${round(summary.p99, 4)} ms, mean ${round(summary.mean, 4)} ms, n=${summary.samples}`,
  })
}

const httpRoundTrip = async () => {
  const fixture = await createBenchApp()
  await fixture.db.repos.sessions.create(newSession('bench', '15550001111'))
  const init = { method: 'POST', headers: { 'x-api-key': BENCH_API_KEY } }
  const restart = async () => {
    const response = await fixture.app.request('/api/sessions/bench/restart', init)
    if (response.status !== 200) throw new Error(`restart answered ${response.status}`)
    await response.arrayBuffer()
  }
  const summary = await measureLatency(restart, { iterations: 10_000, warmup: 2_000 })
  await fixture.close()
  log(`http app: p50 ${summary.p50.toFixed(3)} ms, p99 ${summary.p99.toFixed(3)} ms over ${summary.samples}`)
  emit({
    bench: BENCH,
    metric: 'POST /restart via app.request p50',
    value: round(summary.p50),
    unit: 'ms',
    note: `p99 ${round(summary.p99)} ms, mean ${round(summary.mean)} ms, n=${summary.samples}; includes a libSQL session read`,
  })
}

await busRoundTrip()
await httpRoundTrip()
