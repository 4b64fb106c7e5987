/**
 * A WhatsApp Web multi-device server simulator for tests. Unmodified Baileys sockets connect to
 * `wsUrl` (`makeWASocket({ waWebSocketUrl })`), link through a simulated phone (QR or pairing
 * code), log in, post statuses (decrypted by simulated contacts) and receive status views.
 * Everything on the wire is the real protocol; inside, it is a single-process test double.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BinaryNode, Curve, type KeyPair } from '@whiskeysockets/baileys'
import { WebSocketServer } from 'ws'
import {
  type AccountOptions,
  AccountRegistry,
  type ReceivedStatus,
  type SimAccount,
  type StatusAckMode,
} from './accounts.js'
import { makeNoiseCertChain } from './cert-chain.js'
import { type ConnectionHost, SimConnection } from './connection.js'
import { type ControlServer, startControlServer } from './control.js'
import {
  type CompanionRegistration,
  type LinkedDevice,
  Linking,
  type RegisteredCompanion,
} from './linking.js'
import { answerIq, type IqContext } from './login.js'
import { MediaServer, makeTlsMaterial, type TlsMaterial } from './media.js'
import { decryptStatusMedia } from './media-crypto.js'
import { MessageRouter, type SentStanza } from './messages.js'
import type { HandshakeResult } from './noise.js'
import { PairingCodes } from './pairing-code.js'
import { Receipts, type ViewOptions, type ViewResult } from './receipts.js'
import { type KickKind, Sessions } from './sessions.js'

export type { KickKind } from './sessions.js'

export interface SimulatorOptions {
  /** WebSocket port (0 = any free port) */
  port?: number
  /** HTTPS media port (0 = any) */
  mediaPort?: number
  /** HTTP control API port (0 = any; `false` = no control API) */
  controlPort?: number | false
  /**
   * TLS material for the upload host, made once by the caller (e.g. a CA a whole test run already
   * trusts through NODE_EXTRA_CA_CERTS). Default: a fresh CA per simulator, deleted on `stop()`.
   */
  tls?: TlsMaterial
}

type Viewer = string | ({ phone: string } & ViewOptions)

export class WaSimulator implements ConnectionHost {
  readonly accounts = new AccountRegistry()
  readonly serverStatic: KeyPair = Curve.generateKeyPair()
  readonly certChain: Buffer = makeNoiseCertChain(this.serverStatic.public)
  readonly messages = new MessageRouter(this.accounts)
  /** errors that made the simulator drop a connection (bad frames, failed handshakes, bugs) */
  readonly connectionErrors: string[] = []
  private readonly linking = new Linking(this.accounts)
  private readonly pairingCodes = new PairingCodes(this.accounts, this.linking)
  private readonly sessions = new Sessions(this.accounts)
  private readonly receipts = new Receipts(this.accounts, (account, device) =>
    this.sessions.open(account.phone, device),
  )
  private readonly iq: IqContext
  private readonly connections = new Set<SimConnection>()
  private http?: Server
  private control?: ControlServer
  private port: number

  private constructor(
    private readonly media: MediaServer,
    opts: SimulatorOptions,
  ) {
    this.port = opts.port ?? 0
    this.sessions.flushOffline = (conn) => this.receipts.flushPending(conn)
    this.iq = {
      accounts: this.accounts,
      pairingCodes: this.pairingCodes,
      mediaHost: () => this.media.host,
      mediaAuth: this.media.auth,
      onPreKeysUploaded: (conn) => this.sessions.pushHistoryLater(conn),
      onPreKeysLow: (account, deviceId, remaining) =>
        this.sessions.notifyPreKeysLow(account, deviceId, remaining),
      onCompanionRemoved: (conn) => {
        if (conn.companion) conn.companion.removed = true
      },
    }
  }

  static async start(opts: SimulatorOptions = {}): Promise<WaSimulator> {
    const media = opts.tls
      ? new MediaServer(opts.tls, opts.mediaPort ?? 0, false)
      : new MediaServer(await makeTlsMaterial(), opts.mediaPort ?? 0)
    const sim = new WaSimulator(media, opts)
    await media.listen()
    await sim.listen()
    if (opts.controlPort !== false) sim.control = await startControlServer(sim, opts.controlPort ?? 0)
    return sim
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws/chat`
  }

  /** `host:port` the clients upload media to (from the `media_conn` answer) */
  get uploadHost(): string {
    return this.media.host
  }

  /** PEM of the CA that signed the upload host's certificate */
  get caCertPath(): string {
    return this.media.caCertPath
  }

  get controlUrl(): string | undefined {
    return this.control?.url
  }

  get mediaStore(): MediaServer {
    return this.media
  }

  // ---- accounts & linking -------------------------------------------------------------------

  createAccount(opts: AccountOptions): SimAccount {
    return this.accounts.create(opts)
  }

  account(phone: string): SimAccount {
    return this.accounts.require(phone)
  }

  /** The phone of `phone` scans a QR string a client emitted (`connection.update` `qr`). */
  scanQr(qr: string, phone: string): Promise<LinkedDevice> {
    return this.linking.scanQr(qr, phone)
  }

  /** The phone of `phone` enters the pairing code its client displays. */
  enterPairingCode(phone: string, code: string): Promise<LinkedDevice> {
    return this.pairingCodes.enterPairingCode(phone, code)
  }

  /**
   * The phone of `phone` links a companion whose keys were made offline, without a linking
   * connection; the answer is what `pair-success` would carry (see `registerCompanion` in linking.ts).
   */
  registerCompanion(phone: string, registration: CompanionRegistration): RegisteredCompanion {
    return this.linking.registerCompanion(this.accounts.require(phone), registration)
  }

  /** Companion device ids currently linked to an account. */
  linkedDevices(phone: string): number[] {
    return [...this.accounts.require(phone).companions.values()]
      .filter((c) => !c.removed)
      .map((c) => c.deviceId)
  }

  isOnline(phone: string, deviceId?: number): boolean {
    return this.sessions.connectionsOf(phone, deviceId).length > 0
  }

  /** Open companion connections of `phone`, with the routing info each one presented. */
  connectionDetails(phone: string): { deviceId: number; routingInfo?: Buffer }[] {
    return this.sessions
      .connectionsOf(phone)
      .map((conn) => ({ deviceId: conn.companion!.deviceId, routingInfo: conn.routingInfo }))
  }

  // ---- statuses & views ---------------------------------------------------------------------

  setStatusAck(phone: string, mode: StatusAckMode): void {
    this.accounts.require(phone).statusAck = mode
  }

  /**
   * Answers the next status stanzas of `phone` with these acks, one each in order (a chunk refused,
   * rate limited, or left unanswered), then `setStatusAck`'s mode again.
   */
  queueStatusAcks(phone: string, modes: StatusAckMode[]): void {
    this.accounts.require(phone).statusAckQueue.push(...modes)
  }

  /**
   * Delays the answers to the device-list (usync) and key-bundle queries the clients of `phone`
   * send, which Baileys makes before writing a status stanza: a slow preparation, as for a large
   * audience. 0 answers at once again.
   */
  setQueryDelay(phone: string, delayMs: number): void {
    this.accounts.require(phone).queryDelayMs = delayMs
  }

  /** Statuses the simulated devices of `contactPhone` decrypted, oldest first. */
  receivedStatuses(contactPhone: string): ReceivedStatus[] {
    return [...this.accounts.require(contactPhone).received]
  }

  /** Message stanzas clients of `phone` sent (statuses by default), oldest first. */
  sentStanzas(phone: string, to = 'status@broadcast'): SentStanza[] {
    return this.messages.sent.filter((s) => s.from === phone && s.to === to)
  }

  /** Decrypts the media of a received image/video status from what the client uploaded. */
  statusMedia(status: ReceivedStatus): Promise<Buffer> {
    return decryptStatusMedia(status.message, this.media)
  }

  view(
    contactPhone: string,
    ownerPhone: string,
    waMessageId: string,
    opts?: ViewOptions,
  ): Promise<ViewResult> {
    return this.receipts.view(contactPhone, ownerPhone, waMessageId, opts)
  }

  /** Many viewers of one status, written back-to-back. */
  viewBurst(
    ownerPhone: string,
    waMessageId: string,
    viewers: Viewer[],
    defaults?: ViewOptions,
  ): Promise<ViewResult> {
    return this.receipts.viewBurst(ownerPhone, waMessageId, viewers, defaults)
  }

  // ---- server-initiated events --------------------------------------------------------------

  /** Ends companion connections of `phone`; see `Sessions.kick` for what each kind sends. */
  kick(phone: string, kind: KickKind, deviceId?: number): Promise<number> {
    return this.sessions.kick(phone, kind, deviceId)
  }

  /** Drops every connection and reopens the listener on the same port (state is kept). */
  async restart(): Promise<void> {
    await this.closeListener()
    await this.listen()
  }

  async stop(): Promise<void> {
    await this.closeListener()
    await this.control?.close()
    await this.media.dispose()
  }

  // ---- ConnectionHost -----------------------------------------------------------------------

  async onHandshake(conn: SimConnection, result: HandshakeResult): Promise<void> {
    if (result.payload.devicePairingData) {
      conn.registration = result
      await this.linking.offerQrRefs(conn)
    } else {
      await this.sessions.login(conn, result)
    }
  }

  async onNode(conn: SimConnection, node: BinaryNode): Promise<void> {
    if (node.tag === 'iq') await answerIq(this.iq, conn, node)
    else if (node.tag === 'message' && conn.companion) await this.messages.onMessage(conn, node)
    // bursts of views pace themselves by these (see `Receipts`)
    else if (node.tag === 'ack' && node.attrs.class === 'receipt') conn.noteReceiptAck()
    // receipts, other acks, presences and `ib` telemetry from clients need no answer
  }

  onError(_conn: SimConnection, err: unknown): void {
    this.connectionErrors.push(err instanceof Error ? err.message : String(err))
  }

  onClose(conn: SimConnection): void {
    this.connections.delete(conn)
    this.linking.forget(conn)
    this.pairingCodes.forget(conn)
    this.sessions.onClose(conn)
  }

  // ---- listener -----------------------------------------------------------------------------

  private async listen(): Promise<void> {
    const http = createServer((_req, res) => {
      res.writeHead(426).end()
    })
    const wss = new WebSocketServer({ server: http, path: '/ws/chat' })
    wss.on('connection', (ws) => this.connections.add(new SimConnection(ws, this)))
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(this.port, '127.0.0.1', resolve)
    })
    this.port = (http.address() as AddressInfo).port
    this.http = http
    http.once('close', () => wss.close())
  }

  private async closeListener(): Promise<void> {
    for (const conn of [...this.connections]) conn.terminate()
    this.connections.clear()
    this.sessions.clear()
    const http = this.http
    this.http = undefined
    if (http) {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  }
}
