/**
 * Bare Baileys posting statuses from a process of its own, so its memory can be read apart from
 * the bench's (status-job.bench.ts):
 *
 *   node --import tsx tests/bench/support/bare-status-sender.ts <json { wsUrl, controlUrl, owner }>
 *
 * A plain `makeWASocket` with memory auth, linked by QR to `owner` through the simulator's control
 * API (`linkBare`), with the settings the bench's own bare clients run with (`prepareProcess`: no
 * source-mapped stack traces, libsignal's console guarded) and a keep-alive and query timeout long
 * enough for a stanza to 10,000 (`SOCKET_CONFIG`). No product code and none of the product's V8
 * flags: the floor is Baileys as a user would run it. Prints `{ pid }` once open; then
 * each stdin line `{ contacts, text }` is answered by a line `{ messageId, ackMs }` once the server
 * acknowledged `sendMessage('status@broadcast', { text }, { statusJidList: [own, …contacts' phone
 * JIDs] })`, timed in this process from the call to the ack (or `{ error }`). A line
 * `{ contacts, keysOnly: true }` only asks for the contacts' devices and key bundles, as a first send
 * would, and is answered `{ devices, ms }`: the simulator makes a contact's Signal keys when its
 * first bundle is asked for, and this costs it none of a send's decrypting. SIGTERM ends it.
 *
 * `startBareSender` (below) runs it from a bench.
 */
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  type BinaryNode,
  type ConnectionState,
  generateMessageIDV2,
  jidNormalizedUser,
  type WASocket,
} from '@whiskeysockets/baileys'
import { firstLine, spawnTs, stopChild } from './processes.js'
import { linkBare, prepareProcess, type SimulatorAddress } from './product-and-bare.js'

export interface BareSenderOptions {
  wsUrl: string
  controlUrl: string
  owner: string
}

export interface BareSendOutcome {
  messageId: string
  /** From `sendMessage` called to the server's ack, in the sender's process. */
  ackMs: number
}

export interface BareSender {
  pid: number
  /** Posts a text status to `contacts` (phone numbers) and its own number; resolves at the ack. */
  send(contacts: string[], text: string): Promise<BareSendOutcome>
  /** Fetches the contacts' device lists and key bundles, sending nothing. */
  fetchKeys(contacts: string[]): Promise<{ devices: number; ms: number }>
  stop(): Promise<void>
}

/** Linking on a busy two-core machine can take a while. */
const LINK_TIMEOUT_MS = 90_000
/** A send to ten thousand contacts fetches as many key bundles and encrypts as many messages. */
const SEND_TIMEOUT_MS = 600_000

/** Starts the sender for `owner` (its simulator account must exist) and waits until it is linked. */
export const startBareSender = async (sim: SimulatorAddress, owner: string): Promise<BareSender> => {
  const options: BareSenderOptions = {
    wsUrl: sim.info.wsUrl,
    controlUrl: sim.info.controlUrl,
    owner,
  }
  const child: ChildProcess = spawnTs(
    new URL(import.meta.url),
    [JSON.stringify(options)],
    {},
    { stdin: 'pipe' },
  )
  let stopping = false
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`  bare sender ${owner} exited by itself (${code ?? signal})\n`)
  })
  try {
    const { pid } = JSON.parse(await firstLine(child, LINK_TIMEOUT_MS)) as { pid: number }
    const ask = async <T>(command: object): Promise<T> => {
      const answer = firstLine(child, SEND_TIMEOUT_MS)
      child.stdin?.write(`${JSON.stringify(command)}\n`)
      const outcome = JSON.parse(await answer) as T | { error: string }
      if (typeof outcome === 'object' && outcome && 'error' in outcome)
        throw new Error(`bare sender: ${outcome.error}`)
      return outcome as T
    }
    return {
      pid,
      send: (contacts, text) => ask({ contacts, text }),
      fetchKeys: (contacts) => ask({ contacts, keysOnly: true }),
      stop: () => {
        stopping = true
        return stopChild(child)
      },
    }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

/**
 * Socket settings for sends far larger than WhatsApp takes. Baileys encrypts a stanza for 10,000
 * devices in one stretch of its event loop (tens of seconds), then finds no frame received for
 * longer than its keep-alive allows and drops the connection before it reads the ack; and the
 * simulator, answering a connection's frames in order, can take over a minute for a query about
 * 10,000 devices. Neither is work the bench measures.
 */
const SOCKET_CONFIG = { keepAliveIntervalMs: 600_000, defaultQueryTimeoutMs: 600_000 }

const send = async (sock: WASocket, contacts: string[], text: string): Promise<BareSendOutcome> => {
  const own = jidNormalizedUser(sock.user?.id)
  const messageId = generateMessageIDV2(sock.user?.id)
  // Watching before the stanza goes out: the ack may come before `sendMessage` resolves. A closed
  // connection is an answer too, or the bench would wait out its timeout.
  const acked = new Promise<void>((resolve, reject) => {
    const onAck = (node: BinaryNode) => {
      if (node.attrs.id !== messageId) return
      sock.ws.off('CB:ack,class:message', onAck)
      sock.ev.off('connection.update', onUpdate)
      resolve()
    }
    const onUpdate = (update: Partial<ConnectionState>) => {
      if (update.connection !== 'close') return
      sock.ws.off('CB:ack,class:message', onAck)
      sock.ev.off('connection.update', onUpdate)
      reject(new Error(`connection closed before the ack: ${update.lastDisconnect?.error?.message}`))
    }
    sock.ws.on('CB:ack,class:message', onAck)
    sock.ev.on('connection.update', onUpdate)
  })
  const started = performance.now()
  await sock.sendMessage(
    'status@broadcast',
    { text },
    { messageId, statusJidList: [own, ...contacts.map((phone) => `${phone}@s.whatsapp.net`)] },
  )
  await acked
  return { messageId, ackMs: performance.now() - started }
}

/**
 * Contacts per key query of `fetchKeys`. The simulator makes ~70 contacts' keys a second in one
 * stretch of its event loop: one query for 10,000 would hold it, and every connection it serves,
 * for minutes.
 */
const KEYS_PER_QUERY = 250

/** What the first send to `contacts` asks the server before writing the stanza, and nothing else. */
const fetchKeys = async (sock: WASocket, contacts: string[]): Promise<{ devices: number; ms: number }> => {
  const started = performance.now()
  let devices = 0
  for (let start = 0; start < contacts.length; start += KEYS_PER_QUERY) {
    const found = await sock.getUSyncDevices(
      contacts.slice(start, start + KEYS_PER_QUERY).map((phone) => `${phone}@s.whatsapp.net`),
      false,
      false,
    )
    await sock.assertSessions(
      found.map((device) => device.jid),
      false,
    )
    devices += found.length
  }
  return { devices, ms: performance.now() - started }
}

const main = async () => {
  prepareProcess()
  const options = JSON.parse(process.argv[2] ?? '{}') as BareSenderOptions
  const sock = await linkBare(
    { info: { ...options, uploadHost: '', caCertPath: '' } },
    options.owner,
    SOCKET_CONFIG,
  )
  process.stdout.write(`${JSON.stringify({ pid: process.pid })}\n`)
  // One send at a time, answered in order.
  let queue = Promise.resolve()
  createInterface({ input: process.stdin }).on('line', (line) => {
    queue = queue.then(async () => {
      try {
        const { contacts, text, keysOnly } = JSON.parse(line) as {
          contacts: string[]
          text?: string
          keysOnly?: boolean
        }
        const outcome = keysOnly ? await fetchKeys(sock, contacts) : await send(sock, contacts, text ?? '')
        process.stdout.write(`${JSON.stringify(outcome)}\n`)
      } catch (error) {
        process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`)
      }
    })
  })
  process.once('SIGTERM', () => {
    sock.end(undefined)
    // Baileys leaves timers armed after its socket closed (pre-key upload timeout).
    process.exit(0)
  })
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
