/**
 * One client WebSocket: runs the noise handshake, then exchanges encrypted binary nodes.
 * What the nodes mean is up to the simulator (the `ConnectionHost`).
 */
import { randomBytes } from 'node:crypto'
import { type BinaryNode, decodeBinaryNode, encodeBinaryNode, type KeyPair } from '@whiskeysockets/baileys'
import type { WebSocket } from 'ws'
import type { CompanionDevice, SimAccount } from './accounts.js'
import { encodeFrame, FrameReader } from './framing.js'
import { type HandshakeResult, type NoiseTransport, ServerHandshake } from './noise.js'

export interface ConnectionHost {
  readonly serverStatic: KeyPair
  readonly certChain: Buffer
  onHandshake(conn: SimConnection, result: HandshakeResult): Promise<void>
  onNode(conn: SimConnection, node: BinaryNode): Promise<void>
  onClose(conn: SimConnection): void
  /** a frame that could not be handled: the connection is closed after reporting it */
  onError(conn: SimConnection, err: unknown): void
}

export const SERVER_JID = 's.whatsapp.net'

export const newStanzaId = (): string => randomBytes(8).toString('hex').toUpperCase()

export class SimConnection {
  /** set once a companion logged in */
  account?: SimAccount
  companion?: CompanionDevice
  /** set for a fresh client that is registering (linking) */
  registration?: HandshakeResult
  routingInfo?: Buffer
  /**
   * set once the `<ib><offline/>` marker went out: Baileys only waits for the history sync from
   * then on, so one that arrives earlier would leave it buffering events for 20 s
   */
  offlineDelivered = false
  closed = false
  private readonly reader = new FrameReader()
  private handshake?: ServerHandshake
  private transport?: NoiseTransport
  private readonly waiting = new Map<string, (node: BinaryNode) => void>()
  private queue: Promise<void> = Promise.resolve()
  /** `<ack class="receipt">` stanzas the client sent back, and who waits for more of them */
  private receiptAcks = 0
  private readonly ackWaiters = new Set<() => void>()

  constructor(
    private readonly ws: WebSocket,
    private readonly host: ConnectionHost,
  ) {
    ws.on('message', (data: Buffer) => {
      // process frames strictly in arrival order, one node at a time, like a real stream
      this.queue = this.queue.then(() => this.onData(data)).catch((err) => this.fail(err))
    })
    ws.on('close', () => this.markClosed())
    ws.on('error', () => this.markClosed())
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN
  }

  async sendNode(node: BinaryNode): Promise<void> {
    if (!this.transport || !this.isOpen) return
    const frame = encodeFrame(this.transport.encrypt(encodeBinaryNode(node)))
    await new Promise<void>((resolve) => this.ws.send(frame, () => resolve()))
  }

  /** Sends an IQ from the server and waits for the client's answer with the same id. */
  async query(node: BinaryNode, timeoutMs = 10_000): Promise<BinaryNode> {
    const id = node.attrs.id ?? newStanzaId()
    node.attrs.id = id
    const reply = new Promise<BinaryNode>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`no answer to server iq ${id}`))
      }, timeoutMs)
      this.waiting.set(id, (answer) => {
        clearTimeout(timer)
        resolve(answer)
      })
    })
    await this.sendNode(node)
    return reply
  }

  /** How many receipts the client has acknowledged on this connection so far. */
  get acknowledgedReceipts(): number {
    return this.receiptAcks
  }

  /** Counts an `<ack class="receipt">` from the client. */
  noteReceiptAck(): void {
    this.receiptAcks++
    for (const wake of this.ackWaiters) wake()
  }

  /**
   * Resolves once the client has acknowledged `count` receipts on this connection or the
   * connection closed (true), or `timeoutMs` passed (false: a client that never acks must not
   * hang the simulator).
   */
  async waitForReceiptAcks(count: number, timeoutMs: number): Promise<boolean> {
    if (this.receiptAcks >= count || this.closed) return true
    return new Promise<boolean>((resolve) => {
      const done = (reached: boolean) => {
        clearTimeout(timer)
        this.ackWaiters.delete(check)
        resolve(reached)
      }
      const check = () => {
        if (this.receiptAcks >= count || this.closed) done(true)
      }
      const timer = setTimeout(() => done(false), timeoutMs)
      this.ackWaiters.add(check)
    })
  }

  /** `<stream:error>` then close, as the server does before dropping a client. */
  async streamError(attrs: Record<string, string>, child?: BinaryNode): Promise<void> {
    await this.sendNode({ tag: 'stream:error', attrs, content: child ? [child] : undefined })
    this.close()
  }

  /** Closes the socket without any stream error (the client sees a dropped connection). */
  close(): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close()
    this.markClosed()
  }

  /** Kills the TCP connection abruptly. */
  terminate(): void {
    this.ws.terminate()
    this.markClosed()
  }

  private markClosed(): void {
    if (this.closed) return
    this.closed = true
    for (const resolve of this.waiting.values()) resolve({ tag: 'closed', attrs: {} })
    this.waiting.clear()
    for (const wake of this.ackWaiters) wake()
    this.host.onClose(this)
  }

  private fail(err: unknown): void {
    this.host.onError(this, err)
    this.close()
  }

  private async onData(data: Buffer): Promise<void> {
    if (this.closed) return
    for (const frame of this.reader.push(data)) {
      if (!this.handshake) {
        const intro = this.reader.intro!
        this.routingInfo = intro.routingInfo
        this.handshake = new ServerHandshake(this.host.serverStatic, this.host.certChain)
        this.ws.send(encodeFrame(this.handshake.respondToHello(intro.header, frame)))
      } else if (!this.transport) {
        const result = this.handshake.finish(frame)
        this.transport = result.transport
        await this.host.onHandshake(this, result)
      } else {
        const node = await decodeBinaryNode(this.transport.decrypt(frame))
        await this.dispatch(node)
      }
    }
  }

  private async dispatch(node: BinaryNode): Promise<void> {
    const waiter = node.tag === 'iq' && node.attrs.id ? this.waiting.get(node.attrs.id) : undefined
    if (waiter && (node.attrs.type === 'result' || node.attrs.type === 'error')) {
      this.waiting.delete(node.attrs.id!)
      waiter(node)
      return
    }
    await this.host.onNode(this, node)
  }
}

export const firstChild = (node: BinaryNode): BinaryNode | undefined =>
  Array.isArray(node.content) ? node.content[0] : undefined
