/**
 * A status to 10,000 contacts sent by the product as a job, against bare Baileys sending one
 * stanza to the same 10,000 on the same simulator in the same run.
 *
 *  - the product: the embedded product in its own process with one linked session
 *    (support/burst-product.ts). `POST /api/sessions/{id}/send-status` with the 10,000 numbers,
 *    more than `STATUS_JOB_THRESHOLD`, answers 202 with a job; the connector then sends the status
 *    in chunks of `STATUS_CHUNK_SIZE` recipients, one after the other with `STATUS_CHUNK_PAUSE_MS`
 *    between them, all with the same message id. Timed from the POST until `GET /api/jobs/{id}`
 *    (polled every 100 ms) reports `completed`;
 *  - bare Baileys: a plain `makeWASocket` with memory auth, in a process of its own
 *    (support/bare-status-sender.ts) so that its memory is its own, linked to another account.
 *    `sendMessage('status@broadcast', …, { statusJidList })` with the same contacts' phone JIDs and
 *    its own in one stanza, timed until the server's ack. WhatsApp would refuse a stanza that large;
 *    the simulator takes it, so this is the least work a send to 10,000 can be.
 *
 * Wall time. Both sides are also timed until the simulated contacts decrypted the status (the last
 * contact of each chunk-sized slice of the list, and the last one: the simulator decrypts a stanza
 * for its recipients in order, after acking it). The simulator is one process and decrypts a
 * stanza in one stretch of its event loop (about 20 ms a contact), so every connection waits while
 * it does: a chunk's device and key queries wait on the simulator decrypting the chunk before
 * (500 contacts, ~10 s), while the one bare stanza is acked before any decrypting starts. WhatsApp
 * does neither. So "until acked/completed" is unfair to the product, "until decrypted" is fair but
 * mostly the simulator's decrypting on both sides, and the CPU time each side's process spent
 * (/proc/<pid>/stat, from the request until completed or acked) is the figure that compares the
 * work of the two. The pauses are deliberate pacing: wall figures are also given without them,
 * wall time minus (chunks − 1) × pause.
 *
 * Peak RSS of each side's process during its send: VmHWM from /proc/<pid>/status after resetting it
 * just before the send (`clear_refs` 5), or VmRSS sampled every 100 ms where the reset is refused.
 * Chunks: the job's report beside the stanzas with the message id the simulator received
 * (`GET /accounts/{owner}/sent`), and which contacts they covered. Views, right after the job:
 * every contact views the product's status (one burst by phone number), then every fifth views it
 * again (half by phone number, half by LID with `participant_pn`, which the product turns back
 * into the number); the viewer list (`GET …/status-viewers/{statusId}` once `GET …/sent-statuses`
 * counts them all, and again page by page) must hold each contact exactly once. The views come
 * before the bare send: the simulator decrypting one stanza to 10,000 holds every connection for
 * minutes, long enough for the product's keep-alive to drop its session.
 *
 * Untimed beforehand: a third client (also its own process) asks for the same contacts' devices
 * and key bundles, as its first send to them would, so neither side pays for the simulator making
 * the contacts' keys (about 15 ms each); it sends nothing, which spares the simulator decrypting a
 * third send to all of them. Each side sends once to 20 other contacts so its timed send is not its
 * first (in the smoke run the product's is a job too). After every send the bench waits until the
 * contacts decrypted it, so that work never falls into the next measurement. Each side sends once:
 * a first send to these contacts, a new Signal session with each of them.
 *
 * BENCH_SMOKE=1: 60 contacts, STATUS_JOB_THRESHOLD 10, chunks of 20 (3 chunks), 50 ms pause.
 * BENCH_JOB_CONTACTS overrides the count; BENCH_JOB_PAUSE_MS the pause (full run: 250 ms, the
 * default). BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=dir" profiles the product. About twelve
 * minutes on two cores, nearly all of it the simulator: making the contacts' keys (under three
 * minutes; creating the 10,000 accounts takes 3 s) and decrypting each side's send (four and a half).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import type { Viewer } from '../../shared/schemas.js'
import { type BareSender, startBareSender } from './support/bare-status-sender.js'
import {
  agent,
  api,
  createAccount,
  createAccounts,
  loadText,
  type ProductChild,
  prepareProcess,
  request,
  simCall,
  sleep,
  startProduct,
} from './support/product-and-bare.js'
import { bySize, emit, log, round } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'status job'
const CONTACTS = Number(process.env.BENCH_JOB_CONTACTS ?? bySize(10_000, 60))
const PAUSE_MS = Number(process.env.BENCH_JOB_PAUSE_MS ?? bySize(250, 50))
/**
 * The product's settings for the run. The full run keeps the default threshold and chunk size; the
 * smoke run makes 60 contacts a job of several chunks. The pause is always set, so it is known.
 */
const PRODUCT_ENV: Record<string, string> = {
  STATUS_CHUNK_PAUSE_MS: String(PAUSE_MS),
  ...bySize<Record<string, string>>({}, { STATUS_JOB_THRESHOLD: '10', STATUS_CHUNK_SIZE: '20' }),
}
const PRODUCT_OWNER = '15550500001'
const BARE_OWNER = '15550500002'
const WARM_OWNER = '15550500003'
const contactPhone = (i: number) => `155505${String(i).padStart(7, '0')}`
/** Contacts outside the audience: each side sends to them once, untimed, to warm its code paths. */
const WARMUP_CONTACTS = 20
/** Every this-many contacts view the status a second time. */
const VIEW_AGAIN_EVERY = 5
const JOB_POLL_MS = 100
const DELIVERY_POLL_MS = 50
/** The simulator decrypts 40–70 first messages a second; a busy machine halves that. */
const DELIVERY_TIMEOUT_MS = Math.max(120_000, CONTACTS * 60)
const JOB_TIMEOUT_MS = Math.max(120_000, CONTACTS * 60)
/** After the simulator wrote the last receipt, how long the missing viewers may still take. */
const VIEWS_SETTLE_MS = 60_000
/** Pause between viewer-count reads: a list of 10,000 is not fetched ten times a second. */
const VIEWS_POLL_MS = 100
/** Page size of the paged viewer read; the smoke run's is small enough to take several pages. */
const VIEWER_PAGE = bySize(1_000, 25)
/** How long the product's session may take to be connected again before the views. */
const CONNECTED_TIMEOUT_MS = 60_000

// ── what a process uses ────────────────────────────────────────────────────────────────────────

/** A field of /proc/<pid>/status in kB; NaN once the process is gone. */
const statusKb = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : Number.NaN
  } catch {
    return Number.NaN
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU time of a process so far (ms), from /proc/<pid>/stat; NaN once it is gone. */
const cpuMs = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}

interface Usage {
  beforeMb: number
  peakMb: number
  cpuMs: number
  how: string
}

/**
 * What a process uses over a stretch of work: CPU time, and the most resident memory it held.
 * VmHWM is the peak since the process started (linking, warm-up); writing 5 to its `clear_refs`
 * resets it to the current RSS, so it then reads the peak of the stretch, short spikes included.
 * Where that write is refused, VmRSS sampled every 100 ms stands in.
 */
class ProcessUsage {
  readonly beforeKb: number
  private readonly cpuBefore: number
  private readonly reset: boolean
  private sampledKb: number
  private readonly timer: NodeJS.Timeout
  private result: Usage | undefined

  constructor(private readonly pid: number) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5')
      this.reset = true
    } catch {
      this.reset = false
    }
    this.beforeKb = statusKb(pid, 'VmRSS')
    this.sampledKb = this.beforeKb
    this.cpuBefore = cpuMs(pid)
    this.timer = setInterval(() => {
      const kb = statusKb(pid, 'VmRSS')
      if (kb > this.sampledKb) this.sampledKb = kb
    }, 100)
  }

  /** Ends the stretch; later calls answer the same. */
  stop(): Usage {
    if (this.result) return this.result
    clearInterval(this.timer)
    const used = cpuMs(this.pid) - this.cpuBefore
    const now = statusKb(this.pid, 'VmRSS')
    const sampled = now > this.sampledKb ? now : this.sampledKb
    const hwm = this.reset ? statusKb(this.pid, 'VmHWM') : Number.NaN
    const peakKb = hwm > sampled ? hwm : sampled
    this.result = {
      beforeMb: this.beforeKb / 1024,
      peakMb: peakKb / 1024,
      cpuMs: used,
      how: this.reset ? 'VmHWM after clear_refs' : 'VmRSS sampled every 100 ms',
    }
    return this.result
  }
}

const describeUsage = (usage: Usage) =>
  `CPU ${usage.cpuMs.toFixed(0)} ms, RSS ${usage.beforeMb.toFixed(0)} → peak ${usage.peakMb.toFixed(0)} MB`

// ── the simulator ──────────────────────────────────────────────────────────────────────────────

/**
 * When the simulated contacts had decrypted status `id`: the first moment every one of `watched`
 * had it (only the ones still missing are asked again).
 */
const deliveredAt = async (sim: SimulatorProcess, watched: string[], id: string): Promise<number> => {
  const missing = new Set(watched)
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS
  for (;;) {
    for (const contact of [...missing]) {
      const statuses = await simCall<{ id: string }[]>(sim, 'GET', `/accounts/${contact}/statuses`)
      if (statuses.some((status) => status.id === id)) missing.delete(contact)
    }
    if (!missing.size) return performance.now()
    if (performance.now() > deadline)
      throw new Error(`status ${id} did not reach ${missing.size} of ${watched.length} watched contacts`)
    await sleep(DELIVERY_POLL_MS)
  }
}

/** The last contact of each `chunkSize` slice of the list, and the last one. */
const watchedContacts = (contacts: string[], chunkSize: number): string[] => {
  const watched = new Set<string>()
  for (let end = chunkSize; end < contacts.length; end += chunkSize) watched.add(contacts[end - 1] as string)
  watched.add(contacts.at(-1) as string)
  return [...watched]
}

interface SentStanza {
  id: string
  recipients: string[]
}

/** The stanzas with message id `id` the simulator got from `owner`'s clients, and whom they reached. */
const stanzasOf = async (sim: SimulatorProcess, owner: string, id: string, contacts: string[]) => {
  const stanzas = (await simCall<SentStanza[]>(sim, 'GET', `/accounts/${owner}/sent`)).filter(
    (stanza) => stanza.id === id,
  )
  const accounts = await simCall<{ phone: string; lid: string | null }[]>(sim, 'GET', '/accounts')
  const phoneOf = new Map<string, string>()
  for (const { phone, lid } of accounts) {
    phoneOf.set(phone, phone)
    if (lid) phoneOf.set(lid.replace(/@lid$/, ''), phone)
  }
  // How many stanzas addressed each contact (any of its devices, by LID or by number).
  const times = new Map<string, number>()
  for (const stanza of stanzas) {
    const reached = new Set<string>()
    for (const jid of stanza.recipients) {
      const phone = phoneOf.get(jid.replace(/(:\d+)?@.*$/, ''))
      if (phone) reached.add(phone)
    }
    for (const phone of reached) times.set(phone, (times.get(phone) ?? 0) + 1)
  }
  const covered = contacts.filter((phone) => times.has(phone)).length
  const more = contacts.filter((phone) => (times.get(phone) ?? 0) > 1).length
  return { stanzas: stanzas.length, covered, addressedMoreThanOnce: more }
}

// ── the product ────────────────────────────────────────────────────────────────────────────────

interface JobStarted {
  jobId: string
  statusId: string
  waMessageId: string
  recipientsTotal: number
  chunksTotal: number
  state: string
}

interface JobChunk {
  index: number
  size: number
  state: string
  attempts: number
  error: string | null
}

interface Job {
  jobId: string
  state: 'running' | 'completed' | 'partial' | 'failed' | 'cancelled'
  recipientsTotal: number
  recipientsSent: number
  recipientsFailed: number
  chunkSize: number
  chunksTotal: number
  chunksSent: number
  chunksFailed: number
  chunks: JobChunk[]
}

const sendStatusPath = (product: ProductChild) => `/api/sessions/${product.sessionId}/send-status`

/**
 * Polls the job until it is no longer running; resolves with its report, when that was seen and
 * how many reads it took.
 */
const jobFinished = async (
  product: ProductChild,
  jobId: string,
): Promise<{ job: Job; at: number; polls: number }> => {
  const deadline = performance.now() + JOB_TIMEOUT_MS
  for (let polls = 1; ; polls++) {
    const { data: job, receivedAt } = await request<Job>(product, 'GET', `/api/jobs/${jobId}`)
    if (job.state !== 'running') return { job, at: receivedAt, polls }
    if (performance.now() > deadline)
      throw new Error(`job ${jobId} still running after ${JOB_TIMEOUT_MS} ms: ${job.chunksSent} chunks sent`)
    await sleep(JOB_POLL_MS)
  }
}

const describeFailure = (job: Job) =>
  job.chunks
    .filter((chunk) => chunk.state !== 'sent')
    .slice(0, 5)
    .map((chunk) => `chunk ${chunk.index} ${chunk.state} after ${chunk.attempts} attempt(s): ${chunk.error}`)
    .join('; ')

const attemptsOf = (job: Job) => job.chunks.reduce((total, chunk) => total + chunk.attempts, 0)

/**
 * One untimed send of the product: 200 once acknowledged below the job threshold, else a job the
 * bench waits out.
 */
const productWarmup = async (sim: SimulatorProcess, product: ProductChild, contacts: string[]) => {
  const { data, status } = await request<{ waMessageId: string; jobId?: string }>(
    product,
    'POST',
    sendStatusPath(product),
    { type: 'text', content: 'Warming up', targetNumbers: contacts.join(',') },
  )
  if (status === 202 && data.jobId) {
    const { job } = await jobFinished(product, data.jobId)
    if (job.state !== 'completed') throw new Error(`warm-up job ${job.state}: ${describeFailure(job)}`)
  }
  await deliveredAt(sim, [contacts.at(-1) as string], data.waMessageId)
}

interface ProductRun {
  started: JobStarted
  job: Job
  /** From the POST until its 202. */
  acceptedMs: number
  /** From the POST until the job read `completed`. */
  completedMs: number
  /** From the POST until the watched contacts had decrypted it. */
  decryptedMs: number
  /** From the POST until the job read `completed`. */
  usage: Usage
  /** `GET /api/jobs/{id}` reads while it ran, and the CPU time one costs the product (ms). */
  polls: number
  pollCpuMs: number
}

const productJob = async (
  sim: SimulatorProcess,
  product: ProductChild,
  contacts: string[],
): Promise<ProductRun> => {
  const usage = new ProcessUsage(product.pid)
  try {
    const startedAt = performance.now()
    const {
      data: started,
      status,
      receivedAt,
    } = await request<JobStarted>(product, 'POST', sendStatusPath(product), {
      type: 'text',
      content: 'To everybody, in chunks',
      targetNumbers: contacts.join(','),
    })
    if (status !== 202 || !started.jobId)
      throw new Error(`send-status answered ${status} without a job: ${JSON.stringify(started)}`)
    // The chunk size comes from the job itself, so the delivery watch follows its slices.
    const first = await api<Job>(product, 'GET', `/api/jobs/${started.jobId}`)
    const delivered = deliveredAt(sim, watchedContacts(contacts, first.chunkSize), started.waMessageId)
    // A failed watch must not go unhandled while the job is polled; it is awaited below.
    delivered.catch(() => undefined)
    const { job, at, polls } = await jobFinished(product, started.jobId)
    if (job.state !== 'completed')
      throw new Error(
        `job ${job.state}: ${job.chunksSent}/${job.chunksTotal} chunks sent; ${describeFailure(job)}`,
      )
    const used = usage.stop()
    const decrypted = await delivered
    return {
      started,
      job,
      acceptedMs: receivedAt - startedAt,
      completedMs: at - startedAt,
      decryptedMs: decrypted - startedAt,
      usage: used,
      polls: polls + 1,
      pollCpuMs: await pollCost(product, started.jobId),
    }
  } finally {
    // A failed job must not leave the sampler running.
    usage.stop()
  }
}

/** Reads measured back to back for what one costs. */
const COST_READS = 200

/**
 * The CPU time one `GET /api/jobs/{id}` of the finished job costs the product (ms): the bench's
 * own reads are part of the product's CPU time during the job, and this says how large a part.
 */
const pollCost = async (product: ProductChild, jobId: string): Promise<number> => {
  const usage = new ProcessUsage(product.pid)
  for (let i = 0; i < COST_READS; i++) await api<Job>(product, 'GET', `/api/jobs/${jobId}`)
  return usage.stop().cpuMs / COST_READS
}

/** Resolves once the product reports its session connected. */
const connected = async (product: ProductChild): Promise<void> => {
  const deadline = performance.now() + CONNECTED_TIMEOUT_MS
  const path = `/api/sessions/${product.sessionId}/connection-status`
  while (!(await api<{ connected: boolean }>(product, 'GET', path)).connected) {
    if (performance.now() > deadline) throw new Error('the product session is not connected')
    await sleep(100)
  }
}

/** Counts a viewer listing against the contacts: who is missing, who is there twice, who is unknown. */
const checkListed = (viewers: Viewer[], contacts: ReadonlySet<string>) => {
  const numbers = new Set<string>()
  let duplicated = 0
  let unknown = 0
  for (const viewer of viewers) {
    const number = viewer.number ?? ''
    if (numbers.has(number)) duplicated++
    else if (contacts.has(number)) numbers.add(number)
    else unknown++
  }
  return { listed: viewers.length, lost: contacts.size - numbers.size, duplicated, unknown }
}

/** The whole viewer list a page at a time (`limit`, `cursor` ← `nextCursor`). */
const viewerPages = async (
  product: ProductChild,
  path: string,
): Promise<{ viewers: Viewer[]; pages: number }> => {
  const viewers: Viewer[] = []
  let cursor: string | null | undefined
  let pages = 0
  do {
    const query = `?limit=${VIEWER_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const { data, body } = await request<Viewer[]>(product, 'GET', `${path}${query}`)
    viewers.push(...data)
    pages++
    cursor = (body as { nextCursor?: string | null }).nextCursor
  } while (cursor && pages <= CONTACTS)
  return { viewers, pages }
}

type BurstResult = { delivered: number; queued: number }

/**
 * Every contact views the product's status, every fifth a second time; resolves once the viewer
 * list is complete (or settled without), with what it holds and how long that took.
 */
const viewAll = async (sim: SimulatorProcess, product: ProductChild, run: ProductRun, contacts: string[]) => {
  const { statusId, waMessageId } = run.started
  const again = contacts
    .filter((_, i) => i % VIEW_AGAIN_EVERY === 0)
    .map((phone, k) => ({ phone, asLid: k % 2 === 1 }))
  // The simulator holds receipts for a companion that is offline (it delivers them after its next
  // login): the views are timed from a connected session.
  await connected(product)
  const started = performance.now()
  const first = await simCall<BurstResult>(sim, 'POST', '/views/burst', {
    owner: product.owner,
    id: waMessageId,
    viewers: contacts,
  })
  // The second views come once the first ones were written: the product has stored most of these
  // viewers already and must recognise them, by number and by LID.
  const second = await simCall<BurstResult>(sim, 'POST', '/views/burst', {
    owner: product.owner,
    id: waMessageId,
    viewers: again,
  })
  const writtenAt = performance.now()
  const relayed = first.delivered + second.delivered
  const queued = first.queued + second.queued
  if (relayed + queued !== contacts.length + again.length)
    throw new Error(`simulator took ${relayed + queued} of ${contacts.length + again.length} receipts`)
  const path = `/api/sessions/${product.sessionId}/status-viewers/${statusId}`
  const countPath = `/api/sessions/${product.sessionId}/sent-statuses`
  let listedAt = 0
  for (;;) {
    const statuses = await api<{ id: string; viewerCount: number }[]>(product, 'GET', countPath)
    const count = statuses.find((status) => status.id === statusId)?.viewerCount ?? 0
    if (count >= contacts.length) {
      const { data, receivedAt } = await request<Viewer[]>(product, 'GET', path)
      if (data.length >= contacts.length) {
        listedAt = receivedAt
        break
      }
    }
    if (performance.now() - writtenAt > VIEWS_SETTLE_MS) break
    await sleep(VIEWS_POLL_MS)
  }
  // A duplicate would come after the last new viewer: one more look a while after the bursts.
  await sleep(1_000)
  const expected = new Set(contacts)
  const whole = checkListed(await api<Viewer[]>(product, 'GET', path), expected)
  const { viewers: paged, pages } = await viewerPages(product, path)
  return {
    receipts: relayed + queued,
    queued,
    again: again.length,
    listedMs: listedAt ? listedAt - started : Number.NaN,
    whole,
    paged: { ...checkListed(paged, expected), pages },
  }
}

// ── bare Baileys ───────────────────────────────────────────────────────────────────────────────

interface BareRun {
  /** From the command until the sender reported the ack. */
  ackedMs: number
  /** The sender's own figure: from `sendMessage` called to the ack, in its process. */
  senderAckMs: number
  decryptedMs: number
  messageId: string
  /** From the command until the ack. */
  usage: Usage
}

const bareSend = async (
  sim: SimulatorProcess,
  sender: BareSender,
  contacts: string[],
  watched: string[],
): Promise<BareRun> => {
  const usage = new ProcessUsage(sender.pid)
  const started = performance.now()
  const { messageId, ackMs } = await sender
    .send(contacts, 'To everybody, in one stanza')
    .finally(() => usage.stop())
  const ackedAt = performance.now()
  const decrypted = await deliveredAt(sim, watched, messageId)
  return {
    ackedMs: ackedAt - started,
    senderAckMs: ackMs,
    decryptedMs: decrypted - started,
    messageId,
    usage: usage.stop(),
  }
}

// ── the run ────────────────────────────────────────────────────────────────────────────────────

prepareProcess()
log(`load average ${loadText()} on ${cpus().length} cores; ${CONTACTS} contacts, pause ${PAUSE_MS} ms`)
const benchStarted = performance.now()
const sim = await SimulatorProcess.start()
let product: ProductChild | undefined
const senders: BareSender[] = []
try {
  for (const owner of [PRODUCT_OWNER, BARE_OWNER, WARM_OWNER]) await createAccount(sim, owner)
  const contacts = Array.from({ length: CONTACTS }, (_, i) => contactPhone(i))
  const others = Array.from({ length: WARMUP_CONTACTS }, (_, i) => contactPhone(CONTACTS + i))
  const accountsStarted = performance.now()
  await createAccounts(sim, [...contacts, ...others])
  log(
    `${contacts.length + others.length} simulator accounts in ${(performance.now() - accountsStarted).toFixed(0)} ms`,
  )
  product = await startProduct(sim, PRODUCT_OWNER, { env: PRODUCT_ENV })
  const linkedProduct = product
  const bare = await startBareSender(sim, BARE_OWNER)
  senders.push(bare)
  const warm = await startBareSender(sim, WARM_OWNER)
  senders.push(warm)
  log("linked; the third client fetches the contacts' keys (the simulator makes them)")
  const { devices, ms: keysMs } = await warm.fetchKeys(contacts)
  log(`untimed: ${devices} devices' key bundles in ${keysMs.toFixed(0)} ms`)
  await warm.stop()
  await productWarmup(sim, linkedProduct, others)
  const bareWarm = await bare.send(others, 'Warming up')
  await deliveredAt(sim, [others.at(-1) as string], bareWarm.messageId)

  const productRun = await productJob(sim, linkedProduct, contacts)
  const { job } = productRun
  log(
    `product: 202 in ${productRun.acceptedMs.toFixed(0)} ms, completed in ${productRun.completedMs.toFixed(0)} ms, decrypted in ${productRun.decryptedMs.toFixed(0)} ms; ${job.chunksSent}/${job.chunksTotal} chunks of ${job.chunkSize} in ${attemptsOf(job)} attempts; ${describeUsage(productRun.usage)}; ${productRun.polls} job reads at ${productRun.pollCpuMs.toFixed(2)} ms CPU each`,
  )
  const views = await viewAll(sim, linkedProduct, productRun, contacts)
  log(
    `views: ${views.receipts} receipts (${views.again} second views, ${views.queued} held for an offline session), all ${CONTACTS} listed in ${views.listedMs.toFixed(0)} ms; whole list ${JSON.stringify(views.whole)}, paged ${JSON.stringify(views.paged)}`,
  )

  const bareRun = await bareSend(sim, bare, contacts, watchedContacts(contacts, job.chunkSize))
  log(
    `bare: acked in ${bareRun.ackedMs.toFixed(0)} ms (${bareRun.senderAckMs.toFixed(0)} ms in the sender), decrypted in ${bareRun.decryptedMs.toFixed(0)} ms; ${describeUsage(bareRun.usage)}`,
  )
  await bare.stop()

  const productStanzas = await stanzasOf(sim, PRODUCT_OWNER, productRun.started.waMessageId, contacts)
  const bareStanzas = await stanzasOf(sim, BARE_OWNER, bareRun.messageId, contacts)
  log(
    `stanzas with the job's id: ${productStanzas.stanzas} (covering ${productStanzas.covered} contacts, ${productStanzas.addressedMoreThanOnce} more than once); bare: ${bareStanzas.stanzas} covering ${bareStanzas.covered}`,
  )

  const audience = `status to ${CONTACTS.toLocaleString('en')} contacts`
  const pauses = (job.chunksTotal - 1) * PAUSE_MS
  const chunking = `${job.chunksTotal} chunks of ${job.chunkSize}, ${PAUSE_MS} ms pause`
  const ratio = (productValue: number, bareValue: number) => round(productValue / bareValue, 2)
  const { usage: productUsage } = productRun
  const { usage: bareUsage } = bareRun
  const pollsCpuMs = productRun.polls * productRun.pollCpuMs
  emit({
    bench: BENCH,
    metric: `${audience}, CPU time of the send, product ÷ bare`,
    value: ratio(productUsage.cpuMs, bareUsage.cpuMs),
    unit: '×',
    baseline: { label: 'bare Baileys', value: round(bareUsage.cpuMs, 0), unit: 'ms' },
    note: `product ${productUsage.cpuMs.toFixed(0)} ms from the POST to completed (${chunking}; ~${pollsCpuMs.toFixed(0)} ms of it answering the bench's ${productRun.polls} job reads, ${ratio(productUsage.cpuMs - pollsCpuMs, bareUsage.cpuMs)}× without), bare ${bareUsage.cpuMs.toFixed(0)} ms until acked; each side's process, /proc/<pid>/stat`,
  })
  emit({
    bench: BENCH,
    metric: `${audience}, job until completed, product ÷ bare until acked`,
    value: ratio(productRun.completedMs, bareRun.ackedMs),
    unit: '×',
    baseline: { label: 'bare Baileys', value: round(bareRun.ackedMs, 0), unit: 'ms' },
    note: `product ${productRun.completedMs.toFixed(0)} ms (202 in ${productRun.acceptedMs.toFixed(0)} ms), bare ${bareRun.ackedMs.toFixed(0)} ms for one stanza; each chunk waits on the simulator decrypting the one before`,
  })
  emit({
    bench: BENCH,
    metric: `${audience}, job until completed, pauses excluded, product ÷ bare`,
    value: ratio(productRun.completedMs - pauses, bareRun.ackedMs),
    unit: '×',
    baseline: { label: 'bare Baileys', value: round(bareRun.ackedMs, 0), unit: 'ms' },
    note: `product ${(productRun.completedMs - pauses).toFixed(0)} ms = ${productRun.completedMs.toFixed(0)} − ${pauses} ms of pauses`,
  })
  emit({
    bench: BENCH,
    metric: `${audience}, until the contacts decrypted it, product ÷ bare`,
    value: ratio(productRun.decryptedMs, bareRun.decryptedMs),
    unit: '×',
    baseline: { label: 'bare Baileys', value: round(bareRun.decryptedMs, 0), unit: 'ms' },
    note: `product ${productRun.decryptedMs.toFixed(0)} ms, bare ${bareRun.decryptedMs.toFixed(0)} ms; both mostly the simulator decrypting ${CONTACTS.toLocaleString('en')} first messages`,
  })
  emit({
    bench: BENCH,
    metric: `${audience}, until decrypted, pauses excluded, product ÷ bare`,
    value: ratio(productRun.decryptedMs - pauses, bareRun.decryptedMs),
    unit: '×',
    baseline: { label: 'bare Baileys', value: round(bareRun.decryptedMs, 0), unit: 'ms' },
    note: `product ${(productRun.decryptedMs - pauses).toFixed(0)} ms = ${productRun.decryptedMs.toFixed(0)} − ${pauses} ms of pauses; load ${loadText()}`,
  })
  emit({
    bench: BENCH,
    metric: `${audience}, peak RSS during the send, product`,
    value: round(productUsage.peakMb, 0),
    unit: 'MB',
    baseline: { label: 'bare Baileys', value: round(bareUsage.peakMb, 0), unit: 'MB' },
    note: `each side its own process (tsx); product ${productUsage.beforeMb.toFixed(0)} → ${productUsage.peakMb.toFixed(0)} MB from the POST to completed, bare ${bareUsage.beforeMb.toFixed(0)} → ${bareUsage.peakMb.toFixed(0)} MB until acked (${productUsage.how})`,
  })
  emit({
    bench: BENCH,
    metric: `${audience}, chunks sent`,
    value: job.chunksSent,
    unit: 'chunks',
    note: `of ${job.chunksTotal} (${job.chunksFailed} failed, ${attemptsOf(job)} attempts); the simulator got ${productStanzas.stanzas} stanzas with the job's message id`,
  })
  emit({
    bench: BENCH,
    metric: `${audience}, contacts the job's stanzas missed + addressed twice`,
    value: CONTACTS - productStanzas.covered + productStanzas.addressedMoreThanOnce,
    unit: 'contacts',
    target: { kind: 'max', value: 0 },
    note: `${productStanzas.covered} of ${CONTACTS} addressed, ${productStanzas.addressedMoreThanOnce} by more than one stanza; the job reported ${job.recipientsSent} sent, ${job.recipientsFailed} failed of ${job.recipientsTotal}`,
  })
  emit({
    bench: BENCH,
    metric: `${CONTACTS.toLocaleString('en')} viewers, listed lost + duplicated`,
    value: views.whole.lost + views.whole.duplicated + views.paged.lost + views.paged.duplicated,
    unit: 'viewers',
    target: { kind: 'max', value: 0 },
    note: `${views.receipts} views (${views.again} second ones, half by LID); listed ${views.whole.listed} (${views.whole.lost} lost, ${views.whole.duplicated} duplicated, ${views.whole.unknown} unknown), in ${views.paged.pages} pages ${views.paged.listed} (${views.paged.lost}/${views.paged.duplicated}/${views.paged.unknown}); all listed ${views.listedMs.toFixed(0)} ms after the first view`,
  })
  log(`load average ${loadText()}; ${((performance.now() - benchStarted) / 1000).toFixed(0)} s in all`)
} finally {
  await Promise.all(senders.map((sender) => sender.stop()))
  await product?.stop()
  agent.destroy()
  await sim.stop()
}
// Nothing else runs; the senders and the product are stopped.
process.exit()
