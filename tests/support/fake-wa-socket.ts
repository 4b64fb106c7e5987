import { EventEmitter } from 'node:events'
import type {
  AnyMessageContent,
  AuthenticationCreds,
  BaileysEventMap,
  BinaryNode,
  LIDMapping,
  MiscMessageGenerationOptions,
  proto,
  UserFacingSocketConfig,
  WAMessage,
} from '@whiskeysockets/baileys'
import type { SocketFactory, WaSocket } from '../../connector/wa-socket.js'

/**
 * A stand-in for a Baileys socket with the same event surface (`ev`, `ws` stanza events) and the
 * methods the connector calls. It never touches a network: tests drive it (`emitQr`, `pairSuccess`,
 * `open`, `closeWith`, `ack`, `viewReceipt`, …) and read what it was asked to do (`sent`, …).
 */

/** What Baileys closes a socket with: a Boom whose `output.statusCode` is the disconnect code. */
export const boomError = (statusCode: number, message = `Closed with ${statusCode}`): Error =>
  Object.assign(new Error(message), { output: { statusCode } })

class FakeEventEmitter {
  private readonly emitter = new EventEmitter().setMaxListeners(0)

  on<E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void): void {
    this.emitter.on(event, listener)
  }

  off<E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void): void {
    this.emitter.off(event, listener)
  }

  emit<E extends keyof BaileysEventMap>(event: E, arg: BaileysEventMap[E]): boolean {
    return this.emitter.emit(event, arg)
  }

  listenerCount(event: keyof BaileysEventMap): number {
    return this.emitter.listenerCount(event)
  }

  /** Baileys' `ev` keeps Node's default of 10: tests that count listeners can ask for it. */
  setMaxListeners(count: number): void {
    this.emitter.setMaxListeners(count)
  }
}

/** LID ↔ phone pairs the fake "server" knows; shared by every socket of a factory. */
export class FakeLidMapping {
  /** Phone digits → LID user. Filled by tests. */
  readonly lidByNumber = new Map<string, string>()
  lookups = 0
  failLookups = false
  /** When set, `getLIDsForPNs` (a usync query) waits for this before answering. */
  lookupGate: Promise<void> | null = null

  async getLIDsForPNs(pns: string[]): Promise<LIDMapping[] | null> {
    this.lookups++
    if (this.lookupGate) await this.lookupGate
    if (this.failLookups) throw new Error('usync failed')
    const pairs = pns.flatMap((pn) => {
      const number = pn.split('@')[0]?.split(':')[0] ?? ''
      const lid = this.lidByNumber.get(number)
      return lid ? [{ pn, lid: `${lid}@lid` }] : []
    })
    return pairs.length ? pairs : null
  }

  async getPNForLID(lid: string): Promise<string | null> {
    return (await this.getPNsForLIDs([lid]))?.[0]?.pn ?? null
  }

  async getPNsForLIDs(lids: string[]): Promise<LIDMapping[] | null> {
    const pairs = lids.flatMap((lid) => {
      const user = lid.split('@')[0]?.split(':')[0]
      const number = [...this.lidByNumber].find(([, lidUser]) => lidUser === user)?.[0]
      // Baileys answers with a device-qualified phone JID.
      return number ? [{ lid, pn: `${number}:0@s.whatsapp.net` }] : []
    })
    return pairs.length ? pairs : null
  }
}

export interface SentMessage {
  jid: string
  content: AnyMessageContent
  options: MiscMessageGenerationOptions | undefined
}

export class FakeWaSocket implements WaSocket {
  readonly ev = new FakeEventEmitter()
  readonly ws = new EventEmitter().setMaxListeners(0)
  readonly authState: { creds: AuthenticationCreds }
  readonly signalRepository: { lidMapping: FakeLidMapping }
  readonly sent: SentMessage[] = []
  readonly pairingRequests: string[] = []
  closed = false
  loggedOut = false
  private markClosed: () => void = () => {}
  private readonly whenClosed = new Promise<void>((resolve) => {
    this.markClosed = resolve
  })
  /** Makes `sendMessage` reject, as Baileys does when a usync or key query fails. */
  sendError: Error | null = null
  /** When set, `sendMessage` waits for this before writing the stanza (device query, keys, encryption). */
  prepareGate: Promise<void> | null = null
  /** When set, `sendMessage` waits for this after writing the stanza (Baileys commits its keys last). */
  commitGate: Promise<void> | null = null
  /** The next code `requestPairingCode` answers with. */
  pairingCode = 'ABCD1234'
  /** When set, `requestPairingCode` waits for this before answering. */
  pairingGate: Promise<void> | null = null
  /** The WebSocket never connects: the socket closes as Baileys' does when WhatsApp refuses. */
  unreachable = false

  constructor(
    readonly config: UserFacingSocketConfig,
    lidMapping: FakeLidMapping,
  ) {
    this.authState = { creds: config.auth.creds }
    this.signalRepository = { lidMapping }
    // Baileys announces the connection attempt on the next tick; the WebSocket then opens, or
    // fails when nothing listens (set `unreachable` in `onCreate`).
    process.nextTick(() => {
      if (this.closed) return
      this.ev.emit('connection.update', { connection: 'connecting' })
      if (this.unreachable) this.closeWith(500, 'WebSocket Error (connect ECONNREFUSED 127.0.0.1:443)')
      else this.ws.emit('open')
    })
  }

  get user() {
    return this.authState.creds.me
  }

  async sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: MiscMessageGenerationOptions,
  ): Promise<WAMessage | undefined> {
    if (this.closed) throw boomError(428, 'Connection Closed')
    if (this.prepareGate) await this.prepareGate
    if (this.closed) throw boomError(428, 'Connection Closed')
    if (this.sendError) throw this.sendError
    this.sent.push({ jid, content, options })
    if (this.commitGate) await this.commitGate
    const id = options?.messageId ?? `3EB0${Math.random().toString(16).slice(2, 14).toUpperCase()}`
    return { key: { remoteJid: jid, id, fromMe: true } } as WAMessage
  }

  /** Relayed messages (a job's chunks): what went out with which recipients. */
  readonly relayed: { jid: string; message: proto.IMessage; messageId: string; statusJidList: string[] }[] =
    []

  async relayMessage(
    jid: string,
    message: proto.IMessage,
    options: { messageId: string; statusJidList?: string[] },
  ): Promise<string> {
    if (this.closed) throw boomError(428, 'Connection Closed')
    if (this.prepareGate) await this.prepareGate
    if (this.closed) throw boomError(428, 'Connection Closed')
    if (this.sendError) throw this.sendError
    this.relayed.push({
      jid,
      message,
      messageId: options.messageId,
      statusJidList: options.statusJidList ?? [],
    })
    return options.messageId
  }

  /** No media hosts here: a fake socket cannot upload (jobs in these tests send text). */
  readonly waUploadToServer: WaSocket['waUploadToServer'] = async () => {
    throw new Error('the fake socket has no media hosts')
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    this.pairingRequests.push(phoneNumber)
    if (this.closed) throw boomError(428, 'Connection Closed')
    // Like Baileys: `creds.me` is set before the phone has confirmed anything.
    this.authState.creds.me = { id: `${phoneNumber}@s.whatsapp.net`, name: '~' }
    this.authState.creds.pairingCode = this.pairingCode
    this.ev.emit('creds.update', this.authState.creds)
    // Baileys rejects a pending request when the socket closes meanwhile.
    if (this.pairingGate) await Promise.race([this.pairingGate, this.whenClosed])
    if (this.closed) throw boomError(428, 'Connection Closed')
    return this.pairingCode
  }

  async logout(): Promise<void> {
    if (this.closed) throw boomError(428, 'Connection Closed')
    this.loggedOut = true
    this.end(boomError(401, 'Intentional Logout'))
  }

  end(error: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.markClosed()
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } })
  }

  // ── test controls ──────────────────────────────────────────────────────────────────────────

  emitQr(ref = `ref-${Math.random().toString(36).slice(2)}`): void {
    this.ev.emit('connection.update', {
      qr: `https://wa.me/settings/linked_devices#${ref},noise,identity,adv,1`,
    })
  }

  /** The phone confirmed the link: creds gain the account, then the server asks for a restart. */
  pairSuccess({ number, lid, device = 3 }: { number: string; lid?: string; device?: number }): void {
    const creds = this.authState.creds
    creds.me = { id: `${number}:${device}@s.whatsapp.net`, ...(lid ? { lid: `${lid}:${device}@lid` } : {}) }
    creds.account = { details: new Uint8Array([1]), accountSignatureKey: new Uint8Array([2]) }
    creds.registered = true
    this.ev.emit('creds.update', creds)
    this.ev.emit('connection.update', { isNewLogin: true, qr: undefined })
    this.closeWith(515, 'Stream Errored (restart required)')
  }

  /** Login completed (creds must be linked, as after `pairSuccess`). */
  open(): void {
    this.ev.emit('connection.update', { connection: 'open' })
  }

  closeWith(statusCode: number, message?: string): void {
    this.end(boomError(statusCode, message))
  }

  /** The server's `<ack class="message">` for a sent message, with an error code when refused. */
  ack(id: string, error?: string): void {
    const node: BinaryNode = {
      tag: 'ack',
      attrs: { class: 'message', id, from: 'status@broadcast', ...(error ? { error } : {}) },
    }
    this.ws.emit('CB:ack,class:message', node)
  }

  /** A viewer's read receipt, as the raw stanza and then as the event Baileys derives from it. */
  viewReceipt({
    id,
    participant,
    participantPn,
    t = Math.floor(Date.now() / 1000),
    type = 'read',
  }: {
    id: string
    participant: string
    participantPn?: string
    t?: number
    type?: 'read' | 'played' | 'delivery'
  }): void {
    const attrs: Record<string, string> = { from: 'status@broadcast', participant, id, t: String(t) }
    if (type !== 'delivery') attrs.type = type
    if (participantPn) attrs.participant_pn = participantPn
    this.ws.emit('CB:receipt', { tag: 'receipt', attrs })
    const stamp = type === 'delivery' ? { receiptTimestamp: t } : { readTimestamp: t }
    this.ev.emit('message-receipt.update', [
      {
        key: { remoteJid: 'status@broadcast', id, fromMe: true, participant },
        receipt: { userJid: participant.replace(/:\d+@/, '@'), ...stamp },
      },
    ])
  }
}

export interface FakeSocketFactory {
  factory: SocketFactory
  sockets: FakeWaSocket[]
  lidMapping: FakeLidMapping
  /** The most recently created socket. */
  latest(): FakeWaSocket
  /** Runs `prepare` on each socket as it is created, before the connector sees it. */
  onCreate(prepare: (sock: FakeWaSocket) => void): void
}

export const createFakeSocketFactory = (): FakeSocketFactory => {
  const sockets: FakeWaSocket[] = []
  const lidMapping = new FakeLidMapping()
  const preparers: ((sock: FakeWaSocket) => void)[] = []
  return {
    sockets,
    lidMapping,
    factory: (config) => {
      const sock = new FakeWaSocket(config, lidMapping)
      for (const prepare of preparers) prepare(sock)
      sockets.push(sock)
      return sock
    },
    latest: () => {
      const sock = sockets.at(-1)
      if (!sock) throw new Error('no socket created yet')
      return sock
    },
    onCreate: (prepare) => preparers.push(prepare),
  }
}
