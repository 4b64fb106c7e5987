/**
 * A burst of status views end to end, against bare Baileys on the same simulator in the same run.
 *
 * The simulator (its own process) relays 5,000 views of one fresh status in one burst, paced by
 * the client's receipt acks as a server is (see tests/sim/receipts.ts), to:
 *  - the product, twice, each in its own process with one linked session
 *    (support/burst-product.ts): embedded (`startEmbedded`: real Baileys, a libSQL file) and split
 *    (the API and one connector over a real `redis-server`, an S3 API and a shared libSQL file).
 *    Timed from the burst's start until `GET /api/sessions/{id}/status-viewers/{statusId}` lists
 *    every viewer (polled with the key: the status's count in `GET …/sent-statuses`, then the list
 *    once the count is complete);
 *  - bare Baileys: a plain `makeWASocket` with memory auth in this process, linked to another
 *    account of the same simulator. Timed until its `message-receipt.update` / `messages.update`
 *    events (or `messages.upsert`, where Baileys folds receipts while it buffers events) have
 *    surfaced every viewer.
 * Rounds rotate which side goes first, and run once with every viewer addressed by phone
 * number and once by LID (with `participant_pn`, which the product turns back into the number).
 * The figures are the medians of the per-round product ÷ bare ratios, of wall time and of the CPU
 * time of the process handling the burst (both are CPU-bound through it; CPU time moves less with
 * outside load). Lost (a viewer never listed or surfaced) and duplicated (listed or surfaced
 * twice) must both be 0.
 *
 * BENCH_SMOKE=1: 200 views, one round. BENCH_BURST_VIEWS and BENCH_BURST_ROUNDS override.
 * BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=dir" profiles both products (one file per process).
 */
import { cpus, loadavg } from 'node:os'
import { type BaileysEventMap, jidNormalizedUser, type proto, type WASocket } from '@whiskeysockets/baileys'
import type { Viewer } from '../../shared/schemas.js'
import {
  agent,
  api,
  createAccount,
  createAccounts,
  linkBare,
  loadText,
  median,
  type ProductChild,
  prepareProcess,
  request,
  simCall,
  sleep,
  startProduct,
} from './support/product-and-bare.js'
import { bySize, emit, log, round } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'receipt burst'
const VIEWS = Number(process.env.BENCH_BURST_VIEWS ?? bySize(5_000, 200))
const ROUNDS = Number(process.env.BENCH_BURST_ROUNDS ?? bySize(5, 1))
/**
 * Untimed views before the rounds, once by number and once by LID on each side: Baileys' first
 * events wait for the initial sync, and the first large batches compile the code paths they take.
 */
const WARMUP_VIEWS = Math.min(VIEWS, 1_000)
/** The product must stay within this of bare Baileys. */
const RATIO_TARGET = 1.1
/**
 * Pause between one answer and the next request. The bench watches the status's viewer count
 * (`GET …/sent-statuses`) and reads the viewer list once the count is complete: a client fetching
 * a list of thousands 50 times a second would mostly measure its own downloads.
 */
const POLL_MS = 20
/** After the simulator wrote the last receipt, how long the missing viewers may still take. */
const SETTLE_TIMEOUT_MS = 30_000
const EMBEDDED_OWNER = '15550300001'
const BARE_OWNER = '15550300002'
const SPLIT_OWNER = '15550300003'
const viewerPhone = (i: number) => `1555031${String(i).padStart(6, '0')}`

type Addressing = 'pn' | 'lid'
type Side = 'embedded' | 'split' | 'bare'
const SIDES: readonly Side[] = ['embedded', 'split', 'bare']

interface BurstOutcome {
  ms: number
  /** CPU time of the process that handled the burst, from its start until all were there. */
  cpuMs: number
  lost: number
  duplicated: number
}

// ── the simulator ──────────────────────────────────────────────────────────────────────────────

const createViewers = async (sim: SimulatorProcess, count: number): Promise<string[]> => {
  const phones = Array.from({ length: count }, (_, i) => viewerPhone(i))
  await createAccounts(sim, phones)
  return phones
}

/** Resolves once the simulator has written every receipt of the burst. */
const burst = (sim: SimulatorProcess, owner: string, id: string, viewers: string[], by: Addressing) =>
  simCall<{ delivered: number; queued: number }>(sim, 'POST', '/views/burst', {
    owner,
    id,
    viewers,
    asLid: by === 'lid',
  }).then((result) => {
    if (result.delivered !== viewers.length)
      throw new Error(`simulator delivered ${result.delivered} of ${viewers.length} receipts`)
  })

// ── the product ────────────────────────────────────────────────────────────────────────────────

/** Counts an API listing against the viewers expected: who is missing, who is there twice. */
const checkListed = (
  viewers: Viewer[],
  phones: ReadonlySet<string>,
): { lost: number; duplicated: number } => {
  const numbers = new Set<string>()
  let duplicated = 0
  for (const viewer of viewers) {
    const number = viewer.number ?? ''
    if (numbers.has(number)) duplicated++
    else if (phones.has(number)) numbers.add(number)
  }
  return { lost: phones.size - numbers.size, duplicated }
}

const productBurst = async (
  sim: SimulatorProcess,
  product: ProductChild,
  phones: string[],
  by: Addressing,
): Promise<BurstOutcome> => {
  const { statusId, waMessageId } = await api<{ statusId: string; waMessageId: string }>(
    product,
    'POST',
    `/api/sessions/${product.sessionId}/send-status`,
    { type: 'text', content: 'Burst', targetNumbers: '' },
  )
  const expected = new Set(phones)
  const path = `/api/sessions/${product.sessionId}/status-viewers/${statusId}`
  let written = false
  let writtenAt = 0
  const cpuBefore = await product.cpuMicros()
  const started = performance.now()
  const sent = burst(sim, product.owner, waMessageId, phones, by).then(() => {
    written = true
    writtenAt = performance.now()
  })
  const countPath = `/api/sessions/${product.sessionId}/sent-statuses`
  let at = 0
  for (;;) {
    const statuses = await api<{ id: string; viewerCount: number }[]>(product, 'GET', countPath)
    const count = statuses.find((status) => status.id === statusId)?.viewerCount ?? 0
    if (count >= expected.size) {
      const { data: listed, receivedAt } = await request<Viewer[]>(product, 'GET', path)
      at = receivedAt
      if (listed.length >= expected.size) break
    }
    if (written && performance.now() - writtenAt > SETTLE_TIMEOUT_MS) {
      at = performance.now()
      break
    }
    await sleep(POLL_MS)
  }
  const cpuMs = ((await product.cpuMicros()) - cpuBefore) / 1000
  await sent
  // A duplicate would come after the last new viewer: one more look once the burst is over.
  await sleep(POLL_MS)
  const { lost, duplicated } = checkListed(await api<Viewer[]>(product, 'GET', path), expected)
  return { ms: at - started, cpuMs, lost, duplicated }
}

// ── bare Baileys ───────────────────────────────────────────────────────────────────────────────

/** Viewers bare Baileys surfaced for the status being watched. */
class SurfacedViews {
  private id = ''
  private seen = new Set<string>()
  private duplicates = 0
  private expected = 0
  private onComplete: (() => void) | null = null

  constructor(sock: WASocket) {
    sock.ev.on('message-receipt.update', (updates: BaileysEventMap['message-receipt.update']) => {
      for (const { key, receipt } of updates)
        if (key.id === this.id && (receipt.readTimestamp || receipt.playedTimestamp))
          this.note(receipt.userJid)
    })
    sock.ev.on('messages.update', (updates: BaileysEventMap['messages.update']) => {
      for (const { key, update } of updates) if (key.id === this.id) this.noteAll(update.userReceipt)
    })
    // While Baileys buffers events, receipts for a message whose own upsert is still buffered are
    // folded into that upsert.
    sock.ev.on('messages.upsert', ({ messages }: BaileysEventMap['messages.upsert']) => {
      for (const message of messages) if (message.key.id === this.id) this.noteAll(message.userReceipt)
    })
  }

  /** Watches `id` from now on; resolves once `expected` distinct viewers surfaced. */
  watch(id: string, expected: number): Promise<void> {
    this.id = id
    this.seen = new Set()
    this.duplicates = 0
    this.expected = expected
    return new Promise((resolve) => {
      this.onComplete = resolve
    })
  }

  get counts(): { surfaced: number; duplicated: number } {
    return { surfaced: this.seen.size, duplicated: this.duplicates }
  }

  private noteAll(receipts: proto.IUserReceipt[] | null | undefined): void {
    for (const receipt of receipts ?? [])
      if (receipt.readTimestamp || receipt.playedTimestamp) this.note(receipt.userJid)
  }

  private note(jid: string | null | undefined): void {
    if (!jid) return
    if (this.seen.has(jid)) this.duplicates++
    else this.seen.add(jid)
    if (this.seen.size >= this.expected && this.onComplete) {
      this.onComplete()
      this.onComplete = null
    }
  }
}

interface BareClient {
  sock: WASocket
  views: SurfacedViews
}

const bareBurst = async (
  sim: SimulatorProcess,
  bare: BareClient,
  phones: string[],
  by: Addressing,
): Promise<BurstOutcome> => {
  const own = jidNormalizedUser(bare.sock.user?.id)
  const sentStatus = await bare.sock.sendMessage(
    'status@broadcast',
    { text: 'Burst' },
    { statusJidList: [own] },
  )
  const id = sentStatus?.key.id
  if (!id) throw new Error('bare Baileys returned no message id')
  const complete = bare.views.watch(id, phones.length)
  let doneAt = 0
  const done = complete.then(() => {
    doneAt = performance.now()
  })
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await burst(sim, BARE_OWNER, id, phones, by)
  await Promise.race([done, sleep(SETTLE_TIMEOUT_MS)])
  const { user, system } = process.cpuUsage(cpuBefore)
  await sleep(POLL_MS)
  const { surfaced, duplicated } = bare.views.counts
  return {
    ms: (doneAt || performance.now()) - started,
    cpuMs: (user + system) / 1000,
    lost: phones.length - surfaced,
    duplicated,
  }
}

// ── the run ────────────────────────────────────────────────────────────────────────────────────

prepareProcess()
log(`load average ${loadText()} on ${cpus().length} cores; ${VIEWS} views, ${ROUNDS} round(s)`)
const sim = await SimulatorProcess.start()
const products: ProductChild[] = []
let bare: BareClient | undefined
try {
  for (const owner of [EMBEDDED_OWNER, SPLIT_OWNER, BARE_OWNER]) await createAccount(sim, owner)
  const phones = await createViewers(sim, Math.max(VIEWS, WARMUP_VIEWS))
  const crowd = phones.slice(0, VIEWS)
  const warmupCrowd = phones.slice(0, WARMUP_VIEWS)
  const embedded = await startProduct(sim, EMBEDDED_OWNER)
  products.push(embedded)
  const split = await startProduct(sim, SPLIT_OWNER, { mode: 'split' })
  products.push(split)
  const bareSock = await linkBare(sim, BARE_OWNER)
  const linkedBare = { sock: bareSock, views: new SurfacedViews(bareSock) }
  bare = linkedBare
  log('linked; warming up')
  const run = (side: Side, viewers: string[], by: Addressing) =>
    side === 'bare'
      ? bareBurst(sim, linkedBare, viewers, by)
      : productBurst(sim, side === 'embedded' ? embedded : split, viewers, by)
  for (const by of ['pn', 'lid'] as const) for (const side of SIDES) await run(side, warmupCrowd, by)

  const results: Record<Addressing, Record<Side, BurstOutcome[]>> = {
    pn: { embedded: [], split: [], bare: [] },
    lid: { embedded: [], split: [], bare: [] },
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const by of ['pn', 'lid'] as const) {
      // Each side in turn goes first.
      const order = SIDES.map((_, k) => SIDES[(k + r) % SIDES.length] as Side)
      for (const side of order) {
        const outcome = await run(side, crowd, by)
        results[by][side].push(outcome)
        log(
          `round ${r + 1} ${by} ${side}: ${outcome.ms.toFixed(0)} ms (CPU ${outcome.cpuMs.toFixed(0)} ms), lost ${outcome.lost}, duplicated ${outcome.duplicated}`,
        )
      }
    }
  }

  const sum = (outcomes: BurstOutcome[], field: 'lost' | 'duplicated') =>
    outcomes.reduce((total, outcome) => total + outcome[field], 0)
  let lost = 0
  let duplicated = 0
  for (const by of ['pn', 'lid'] as const) {
    const bareRounds = results[by].bare
    const bareMs = median(bareRounds.map((outcome) => outcome.ms))
    const bareCpu = median(bareRounds.map((outcome) => outcome.cpuMs))
    lost += sum(bareRounds, 'lost')
    duplicated += sum(bareRounds, 'duplicated')
    const views = `${VIEWS.toLocaleString('en')} ${by === 'pn' ? 'PN' : 'LID'} views`
    for (const side of ['embedded', 'split'] as const) {
      const rounds = results[by][side]
      const paired = (value: (outcome: BurstOutcome) => number) =>
        median(rounds.map((outcome, i) => value(outcome) / value(bareRounds[i] as BurstOutcome)))
      lost += sum(rounds, 'lost')
      duplicated += sum(rounds, 'duplicated')
      const counts = `lost/duplicated ${sum(rounds, 'lost')}/${sum(rounds, 'duplicated')} (bare ${sum(bareRounds, 'lost')}/${sum(bareRounds, 'duplicated')})`
      emit({
        bench: BENCH,
        metric: `${views} listed, ${side} ÷ bare`,
        value: round(
          paired((outcome) => outcome.ms),
          2,
        ),
        unit: '×',
        target: { kind: 'max', value: RATIO_TARGET },
        baseline: { label: 'bare Baileys', value: round(bareMs, 0), unit: 'ms' },
        note: `${side} ${median(rounds.map((outcome) => outcome.ms)).toFixed(0)} ms, bare ${bareMs.toFixed(0)} ms (medians of ${ROUNDS}); ${counts}; load ${loadavg()[0]?.toFixed(2)}`,
      })
      // Both sides are CPU-bound through a burst; their CPU time moves less with outside load.
      emit({
        bench: BENCH,
        metric: `${views}, CPU ${side} ÷ bare`,
        value: round(
          paired((outcome) => outcome.cpuMs),
          2,
        ),
        unit: '×',
        target: { kind: 'max', value: RATIO_TARGET },
        baseline: { label: 'bare Baileys', value: round(bareCpu, 0), unit: 'ms' },
        note: `${side} ${median(rounds.map((outcome) => outcome.cpuMs)).toFixed(0)} ms, bare ${bareCpu.toFixed(0)} ms CPU per burst (medians of ${ROUNDS})${side === 'split' ? '; Redis not counted' : ''}`,
      })
    }
  }
  emit({
    bench: BENCH,
    metric: 'views lost + duplicated',
    value: lost + duplicated,
    unit: 'views',
    target: { kind: 'max', value: 0 },
    note: `${lost} lost, ${duplicated} duplicated over ${ROUNDS * 2 * SIDES.length} bursts`,
  })
  log(`load average ${loadText()}`)
} finally {
  bare?.sock.end(undefined)
  await Promise.all(products.map((product) => product.stop()))
  agent.destroy()
  await sim.stop()
}
// Baileys leaves timers armed after its socket closed (pre-key upload timeout); nothing else runs.
process.exit()
