/**
 * Posting a status to 1,000 contacts, against bare Baileys on the same simulator in the same run.
 *
 *  - the product: the embedded product in its own process with one linked session
 *    (support/burst-product.ts); `POST /api/sessions/{id}/send-status` with the 1,000 numbers,
 *    timed until it answers, which it does once WhatsApp acknowledged the stanza (it looks the
 *    contacts' LIDs up first and addresses them by LID, as WhatsApp Web does);
 *  - bare Baileys: a plain `makeWASocket` with memory auth in this process, linked to another
 *    account; `sendMessage('status@broadcast', …, { statusJidList })` with the same contacts' phone
 *    JIDs and its own, timed until the server's ack.
 * The first send of each side opens a Signal session with every contact (key bundles fetched,
 * 1,000 `pkmsg`); a repeat send only redistributes the sender key. A third client sends to the
 * same contacts first, untimed, so neither side pays for the simulator making the contacts' keys;
 * each side sends once to 20 other contacts, untimed, so its first timed send is not its first
 * send ever; and after every send the bench waits until the simulated contacts have decrypted it, so that
 * work never falls into the next measurement. Repeats alternate which side goes first.
 *
 * BENCH_SMOKE=1: 50 contacts, one repeat. BENCH_SEND_CONTACTS overrides (at most 1,000, the API's
 * limit). BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=dir" profiles the product.
 * About three and a half minutes on two cores, most of it the simulator opening sessions.
 */
import { cpus } from 'node:os'
import {
  type BinaryNode,
  generateMessageIDV2,
  jidNormalizedUser,
  type WASocket,
} from '@whiskeysockets/baileys'
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
  simCall,
  sleep,
  startProduct,
} from './support/product-and-bare.js'
import { bySize, emit, log, round } from './support/report.js'
import { SimulatorProcess } from './support/simulator.js'

const BENCH = 'status send'
const CONTACTS = Number(process.env.BENCH_SEND_CONTACTS ?? bySize(1_000, 50))
const REPEATS = bySize(3, 1)
const RATIO_TARGET = 1.1
const PRODUCT_OWNER = '15550400001'
const BARE_OWNER = '15550400002'
const WARM_OWNER = '15550400003'
/** How long the simulated contacts may take to decrypt one send. */
const DELIVERY_TIMEOUT_MS = 120_000
const contactPhone = (i: number) => `1555041${String(i).padStart(6, '0')}`
/** Contacts outside the audience: each side sends to them once, untimed, to warm its code paths. */
const WARMUP_CONTACTS = 20

/**
 * Resolves once the simulated contact has decrypted status `id`. The simulator decrypts a send for
 * every recipient after acking it, in order: the last contact having it means all have.
 */
const delivered = async (sim: SimulatorProcess, contact: string, id: string): Promise<void> => {
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS
  while (performance.now() < deadline) {
    const statuses = await simCall<{ id: string }[]>(sim, 'GET', `/accounts/${contact}/statuses`)
    if (statuses.some((status) => status.id === id)) return
    await sleep(50)
  }
  throw new Error(`status ${id} did not reach ${contact}`)
}

const productSend = async (
  sim: SimulatorProcess,
  product: ProductChild,
  contacts: string[],
): Promise<number> => {
  const started = performance.now()
  const { waMessageId } = await api<{ waMessageId: string }>(
    product,
    'POST',
    `/api/sessions/${product.sessionId}/send-status`,
    { type: 'text', content: 'To everybody', targetNumbers: contacts.join(',') },
  )
  const ms = performance.now() - started
  await delivered(sim, contacts.at(-1) as string, waMessageId)
  return ms
}

const bareSend = async (sim: SimulatorProcess, sock: WASocket, contacts: string[]): Promise<number> => {
  const own = jidNormalizedUser(sock.user?.id)
  const messageId = generateMessageIDV2(sock.user?.id)
  // Watching before the stanza goes out: the ack may come before `sendMessage` resolves.
  const acked = new Promise<void>((resolve) => {
    const onAck = (node: BinaryNode) => {
      if (node.attrs.id !== messageId) return
      sock.ws.off('CB:ack,class:message', onAck)
      resolve()
    }
    sock.ws.on('CB:ack,class:message', onAck)
  })
  const started = performance.now()
  await sock.sendMessage(
    'status@broadcast',
    { text: 'To everybody' },
    { messageId, statusJidList: [own, ...contacts.map((phone) => `${phone}@s.whatsapp.net`)] },
  )
  await acked
  const ms = performance.now() - started
  await delivered(sim, contacts.at(-1) as string, messageId)
  return ms
}

prepareProcess()
log(`load average ${loadText()} on ${cpus().length} cores; ${CONTACTS} contacts, ${REPEATS} repeat(s)`)
const sim = await SimulatorProcess.start()
let product: ProductChild | undefined
const sockets: WASocket[] = []
try {
  for (const owner of [PRODUCT_OWNER, BARE_OWNER, WARM_OWNER]) await createAccount(sim, owner)
  const contacts = Array.from({ length: CONTACTS }, (_, i) => contactPhone(i))
  const others = Array.from({ length: WARMUP_CONTACTS }, (_, i) => contactPhone(CONTACTS + i))
  await createAccounts(sim, [...contacts, ...others])
  product = await startProduct(sim, PRODUCT_OWNER)
  const linkedProduct = product
  const bare = await linkBare(sim, BARE_OWNER)
  sockets.push(bare)
  const warm = await linkBare(sim, WARM_OWNER)
  sockets.push(warm)
  const warmMs = await bareSend(sim, warm, contacts)
  log(`untimed first send (the simulator makes the contacts' keys): ${warmMs.toFixed(0)} ms`)
  await productSend(sim, linkedProduct, others)
  await bareSend(sim, bare, others)

  const firstProduct = await productSend(sim, linkedProduct, contacts)
  const firstBare = await bareSend(sim, bare, contacts)
  log(`first send: product ${firstProduct.toFixed(0)} ms, bare ${firstBare.toFixed(0)} ms`)
  const repeats: { product: number; bare: number }[] = []
  for (let r = 0; r < REPEATS; r++) {
    const pair = { product: 0, bare: 0 }
    for (const side of r % 2 ? (['bare', 'product'] as const) : (['product', 'bare'] as const)) {
      pair[side] =
        side === 'product'
          ? await productSend(sim, linkedProduct, contacts)
          : await bareSend(sim, bare, contacts)
    }
    log(`repeat send ${r + 1}: product ${pair.product.toFixed(0)} ms, bare ${pair.bare.toFixed(0)} ms`)
    repeats.push(pair)
  }

  const audience = `status to ${CONTACTS.toLocaleString('en')} contacts`
  emit({
    bench: BENCH,
    metric: `${audience}, first send, product ÷ bare`,
    value: round(firstProduct / firstBare, 2),
    unit: '×',
    target: { kind: 'max', value: RATIO_TARGET },
    baseline: { label: 'bare Baileys', value: round(firstBare, 0), unit: 'ms' },
    note: `product ${firstProduct.toFixed(0)} ms, bare ${firstBare.toFixed(0)} ms until acknowledged (one sample each: a new Signal session with every contact)`,
  })
  const repeatBare = median(repeats.map((pair) => pair.bare))
  emit({
    bench: BENCH,
    metric: `${audience}, repeat send, product ÷ bare`,
    value: round(median(repeats.map((pair) => pair.product / pair.bare)), 2),
    unit: '×',
    target: { kind: 'max', value: RATIO_TARGET },
    baseline: { label: 'bare Baileys', value: round(repeatBare, 0), unit: 'ms' },
    note: `product ${median(repeats.map((pair) => pair.product)).toFixed(0)} ms, bare ${repeatBare.toFixed(0)} ms (medians of ${REPEATS}); load ${loadText()}`,
  })
  log(`load average ${loadText()}`)
} finally {
  for (const sock of sockets) sock.end(undefined)
  await product?.stop()
  agent.destroy()
  await sim.stop()
}
// Baileys leaves timers armed after its socket closed (pre-key upload timeout); nothing else runs.
process.exit()
