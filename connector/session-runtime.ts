import type { BaileysEventMap, CacheStore } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { EventPublisher } from '../shared/bus/types.js'
import type { CommandReply } from '../shared/commands.js'
import type { Config } from '../shared/config.js'
import type { Repositories, SessionRecord } from '../shared/db/index.js'
import { AppError, appError, Messages } from '../shared/errors.js'
import type { ProductMetrics } from '../shared/metrics.js'
import type { SessionState } from '../shared/schemas.js'
import type { MediaStore } from '../shared/storage/types.js'
import type { DbAuthState } from './auth/auth-state.js'
import { Backoff, type BackoffOptions } from './backoff.js'
import { attachContactListeners } from './contact-sync.js'
import { jidUser } from './jid.js'
import { baileysLidLookup } from './lid-resolution.js'
import {
  closeAction,
  describeDisconnect,
  disconnectStatusCode,
  hasUnfinishedPairing,
  isLinked,
  type OwnIdentity,
  ownIdentity,
  renderQrDataUrl,
} from './linking.js'
import type { LoginPacer, LoginSlot } from './login-pacer.js'
import { PairingRequests } from './pairing-requests.js'
import { attachReceiptListeners } from './receipts.js'
import type { MediaInUse } from './retention.js'
import { type RevokeStatusInput, revokeStatus } from './revoke-status.js'
import { type SendStatusInput, type SendStatusReply, sendStatus } from './send-status.js'
import { SessionStatus } from './session-status.js'
import { buildSocketConfig, type ExtraSocketOptions } from './socket-config.js'
import { StatusAckTracker } from './status-ack.js'
import type { UrlMediaFetcher } from './status-content.js'
import { type StartJobInput, type StartJobReply, StatusJobs } from './status-jobs/status-jobs.js'
import { withTimeout } from './timeouts.js'
import type { ViewerIngest } from './viewer-ingest.js'
import { endSocket, type SocketFactory, type WaSocket } from './wa-socket.js'

export interface SessionRuntimeDeps {
  sessionId: string
  config: Config
  repos: Repositories
  events: EventPublisher
  media: MediaStore
  logger: Logger
  socketFactory: SocketFactory
  /** Loads this session's auth state from the database. */
  loadAuth: () => Promise<DbAuthState>
  /** This session's slice of the connector's shared key cache. */
  keyCache: CacheStore
  ingest: ViewerIngest
  /** Uploads being sent; the retention job leaves them alone. */
  mediaInUse?: MediaInUse
  /** Counts sends by outcome and times their acks. */
  metrics?: ProductMetrics
  fetchUrl: UrlMediaFetcher
  now: () => number
  backoff: BackoffOptions
  /** Paces the logins the runtime starts by itself: `resume()` and reconnects. */
  logins: LoginPacer
  /**
   * Linking rounds (a socket that showed QR codes or a pairing code and closed with none used)
   * before an unlinked session stops linking until a user starts it again.
   */
  linkRounds: number
  random?: () => number
  socketOptions?: ExtraSocketOptions
}

/** A logout needs the server's answer; a dead connection must not hold a delete up for long. */
const LOGOUT_TIMEOUT_MS = 5_000

/**
 * How long a send waits for a linked session that is logging in before it is refused as not
 * connected. In split mode the commands queued while a session changes hands (its connector died)
 * reach the new owner the moment it adopts the session, a second or so before its socket opens.
 */
const SEND_WAITS_FOR_LOGIN_MS = 10_000

const linkingStopped = (rounds: number) =>
  `Linking stopped: no QR code was scanned and no pairing code entered in ${rounds} rounds; restart the session to link it`

/** One Baileys socket and what happened on it; a reconnect starts a new one. */
interface Connection {
  sock: WaSocket
  /** Acks of the statuses sent on this socket; released with it. */
  acks: StatusAckTracker
  detach: () => void
  qrSeen: boolean
  pairingRequested: boolean
  /** pair-success arrived: the close that follows is the server asking for a fresh login. */
  newLogin: boolean
  /** The WebSocket to WhatsApp opened (or the server showed it was there: a QR, a login). */
  reachedServer: boolean
}

/**
 * One linked (or linking) WhatsApp account: owns its Baileys socket, drives linking by QR or
 * pairing code, reconnects with backoff, sends statuses and feeds status receipts to the ingest.
 * Every timer and listener it creates is its own and is released by `stop()`.
 */
export class SessionRuntime {
  readonly sessionId: string
  private auth: DbAuthState | null = null
  private connection: Connection | null = null
  private readonly status: SessionStatus
  private identity: OwnIdentity = { ownNumber: null, ownJid: null, ownLid: null }
  /** False once stopped, logged out or replaced: nothing reconnects until the next start. */
  private active = false
  private reconnectTimer: NodeJS.Timeout | null = null
  /** A login waiting for its turn at the connector's pacer. */
  private loginSlot: LoginSlot | null = null
  /** Linking rounds used since linking was last asked for (see `linkRounds`). */
  private linkRoundsUsed = 0
  private readonly backoff: Backoff
  private readonly pairing: PairingRequests
  private readonly log: Logger
  /** Sends that answered 504 and still wait for a late verdict (settled when their socket ends). */
  private readonly lateSends = new Set<Promise<void>>()
  /** Sends waiting for the socket to open (see SEND_WAITS_FOR_LOGIN_MS). */
  private readonly openWaiters = new Set<() => void>()
  /** Big audiences' sends, chunk by chunk across reconnects. */
  private readonly jobs: StatusJobs

  constructor(private readonly deps: SessionRuntimeDeps) {
    this.sessionId = deps.sessionId
    this.backoff = new Backoff(deps.backoff, deps.random)
    this.log = deps.logger.child({ sessionId: deps.sessionId })
    this.pairing = new PairingRequests()
    this.status = new SessionStatus({
      sessionId: deps.sessionId,
      repos: deps.repos,
      events: deps.events,
      log: this.log,
    })
    this.jobs = new StatusJobs({
      sessionId: deps.sessionId,
      config: deps.config,
      repos: deps.repos,
      events: deps.events,
      media: deps.media,
      mediaInUse: deps.mediaInUse,
      metrics: deps.metrics,
      fetchUrl: deps.fetchUrl,
      logger: this.log,
      now: deps.now,
      connection: (ms) => this.openConnectionWithin(ms),
      ...(deps.random ? { random: deps.random } : {}),
    })
  }

  get currentState(): SessionState {
    return this.status.state
  }

  get isActive(): boolean {
    return this.active
  }

  /** Whether a reconnect is waiting for its backoff delay or for a login slot. */
  get reconnectPending(): boolean {
    return this.reconnectTimer !== null || this.loginSlot !== null
  }

  /**
   * Connects with the stored creds (a linked session logs straight in) or starts linking. A user
   * asked for it: a login waiting for a slot goes ahead now.
   */
  async start(): Promise<void> {
    if (this.active && (this.connection || this.reconnectTimer)) return
    this.active = true
    this.backoff.reset()
    this.linkRoundsUsed = 0
    await this.openConnection()
  }

  /**
   * Brings the session up when nobody asked for it right now (restored at start, adopted in split
   * mode): the login waits for a slot from the connector's pacer, so a thousand sessions do not
   * log in at once. Returns at once; failures are retried with backoff. `record` is the stored row
   * the caller has read already.
   */
  resume(record?: SessionRecord): void {
    if (this.active && (this.connection || this.reconnectTimer || this.loginSlot)) return
    this.active = true
    this.backoff.reset()
    if (record) this.status.record = record
    this.queueLogin()
  }

  /** Tears the socket down (no logout) and connects afresh. */
  async restart(): Promise<void> {
    this.closeConnection()
    this.pairing.failAll(appError('cannotPair'))
    this.active = true
    this.backoff.reset()
    this.linkRoundsUsed = 0
    await this.openConnection()
  }

  /**
   * Closes the socket without logging out. `persist` records the session as stopped on purpose
   * (the stop command); a connector shutdown leaves the stored state alone so the next start
   * restores the session.
   */
  async stop({ persist }: { persist: boolean }): Promise<void> {
    this.active = false
    this.closeConnection()
    this.wakeOpenWaiters()
    this.pairing.failAll(appError('cannotPair'))
    // The socket is gone: their verdicts are `closed` now; let them record it before the db closes.
    await this.settleLateSends()
    // Jobs stay running in the database: the next open (here or on another connector) resumes them.
    await this.jobs.stop()
    if (persist) {
      await this.status.set('closed', { pairingCode: null, qrCode: null })
      await this.status.announce()
    }
  }

  /** Stops the socket, logs the device out when linked, wipes the auth state and LID pairs. */
  async delete(): Promise<CommandReply<'session.delete'>> {
    this.active = false
    const connection = this.connection
    this.closeConnection({ keepSocket: true })
    this.wakeOpenWaiters()
    this.pairing.failAll(appError('cannotPair'))
    let loggedOut = false
    if (connection) {
      if (this.status.state === 'open' && isLinked(connection.sock.authState.creds)) {
        loggedOut = await withTimeout(connection.sock.logout(), LOGOUT_TIMEOUT_MS).then(
          () => true,
          () => false,
        )
      }
      endSocket(connection.sock)
    }
    await this.settleLateSends()
    await this.jobs.stop()
    await this.wipeCreds()
    await this.deps.repos.lidMap.deleteForSession(this.sessionId)
    this.deps.ingest.forgetSession(this.sessionId)
    return { loggedOut }
  }

  /**
   * Gets a fresh pairing code: restarts linking on a new socket unless the current one has not
   * shown its first QR yet (then that QR triggers the request), and resolves once WhatsApp has
   * accepted the code.
   */
  async requestPairingCode(): Promise<CommandReply<'session.requestPairingCode'>> {
    const session = await this.loadSession()
    if (session.authMethod !== 'pairing') throw appError('notPairingSession')
    if (!this.auth) this.auth = await this.deps.loadAuth()
    if (this.status.state === 'open' || isLinked(this.auth.state.creds)) {
      throw appError('alreadyConnected')
    }
    if (this.pairing.inProgress) throw appError('pairingInProgress')
    if (!session.phoneNumber) throw appError('phoneNotSet')

    const result = this.pairing.waitForCode()
    this.linkRoundsUsed = 0
    const connection = this.connection
    const firstQrPending = connection && !connection.qrSeen && !connection.pairingRequested
    this.active = true
    if (!firstQrPending) {
      this.closeConnection()
      this.backoff.reset()
      try {
        await this.openConnection()
      } catch (error) {
        this.pairing.failAll(appError('cannotPair'))
        result.catch(() => {})
        throw error
      }
    }
    return result
  }

  async sendStatus(input: SendStatusInput): Promise<SendStatusReply> {
    const connection = await this.openConnectionWithin(this.loggingIn ? SEND_WAITS_FOR_LOGIN_MS : 0)
    if (!connection) throw appError('notConnected')
    const { config } = this.deps
    return sendStatus(
      {
        sessionId: this.sessionId,
        sock: connection.sock,
        acks: connection.acks,
        repos: this.deps.repos,
        events: this.deps.events,
        media: this.deps.media,
        ...(this.deps.mediaInUse ? { mediaInUse: this.deps.mediaInUse } : {}),
        ...(this.deps.metrics ? { metrics: this.deps.metrics } : {}),
        fetchUrl: this.deps.fetchUrl,
        logger: this.log,
        now: this.deps.now,
        ackTimeoutMs: config.STATUS_ACK_TIMEOUT_MS,
        prepareTimeoutMs: config.STATUS_PREPARE_TIMEOUT_MS,
        finalTimeoutMs: config.STATUS_ACK_FINAL_TIMEOUT_MS,
        retentionMs: config.STATUS_RETENTION_HOURS * 3_600_000,
        background: (work) => {
          const tracked = work
            .catch((error) => this.log.error({ err: error }, 'finishing a late status send failed'))
            .finally(() => this.lateSends.delete(tracked))
          this.lateSends.add(tracked)
        },
      },
      input,
    )
  }

  /** Stores a big audience's status and job and answers; the chunks go out afterwards. */
  async startStatusJob(input: StartJobInput): Promise<StartJobReply> {
    const connection = await this.openConnectionWithin(this.loggingIn ? SEND_WAITS_FOR_LOGIN_MS : 0)
    if (!connection) throw appError('notConnected')
    return this.jobs.start(connection, input)
  }

  /** The open connection, waiting up to `ms` for a linked session logging in; null if none. */
  private async openConnectionWithin(ms: number): Promise<{ sock: WaSocket; acks: StatusAckTracker } | null> {
    if (!this.isOpen && this.active && ms > 0) {
      // Somebody is waiting for this session: its login need not queue behind the others.
      this.loginSlot?.hurry()
      await this.untilOpen(ms)
    }
    const connection = this.connection
    return connection && this.status.state === 'open'
      ? { sock: connection.sock, acks: connection.acks }
      : null
  }

  /** Whether its WhatsApp connection is open now (a scheduled send goes out only then). */
  get isOpen(): boolean {
    return this.connection !== null && this.status.state === 'open'
  }

  async revokeStatus(input: RevokeStatusInput): Promise<CommandReply<'status.revoke'>> {
    const connection = await this.openConnectionWithin(0)
    if (!connection) throw appError('notConnected')
    return revokeStatus(
      {
        sock: connection.sock,
        acks: connection.acks,
        logger: this.log,
        ackTimeoutMs: this.deps.config.STATUS_ACK_TIMEOUT_MS,
        prepareTimeoutMs: this.deps.config.STATUS_PREPARE_TIMEOUT_MS,
        jobThreshold: this.deps.config.STATUS_JOB_THRESHOLD,
        chunkSize: this.deps.config.STATUS_CHUNK_SIZE,
      },
      input,
    )
  }

  /** Linked and on its way to open (adopted, or reconnecting): worth a short wait rather than a 409. */
  private get loggingIn(): boolean {
    if (!this.active) return false
    // Queued for a login slot: the stored row tells whether it is a linked session.
    if (this.loginSlot) return !!this.status.record?.ownJid
    const state = this.status.state
    return (
      (state === 'connecting' || state === 'reconnecting') &&
      this.auth !== null &&
      isLinked(this.auth.state.creds)
    )
  }

  /** Resolves once the socket opens, the session stops or logs out, or after `ms`. */
  private untilOpen(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.openWaiters.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.openWaiters.add(wake)
    })
  }

  private wakeOpenWaiters(): void {
    for (const wake of [...this.openWaiters]) wake()
  }

  private async settleLateSends(): Promise<void> {
    while (this.lateSends.size) await Promise.all([...this.lateSends])
  }

  // ── socket lifecycle ────────────────────────────────────────────────────────────────────────

  private async loadSession(): Promise<SessionRecord> {
    const session = await this.deps.repos.sessions.get(this.sessionId)
    if (!session) throw appError('sessionNotFound')
    this.status.record = session
    return session
  }

  private async openConnection(): Promise<void> {
    this.clearReconnectTimer()
    if (this.connection) return
    await this.loadSession()
    if (!this.auth) this.auth = await this.deps.loadAuth()
    // Creds from a pairing that never finished would make this socket try (and fail) a login.
    if (hasUnfinishedPairing(this.auth.state.creds)) await this.wipeCreds()
    if (!this.active || this.connection) return

    const sock = this.deps.socketFactory(
      buildSocketConfig({
        config: this.deps.config,
        auth: this.auth.state,
        keyCache: this.deps.keyCache,
        logger: this.log,
        extra: this.deps.socketOptions,
      }),
    )
    const connection: Connection = {
      sock,
      acks: new StatusAckTracker(sock),
      detach: () => {},
      qrSeen: false,
      pairingRequested: false,
      newLogin: false,
      reachedServer: false,
    }
    connection.detach = this.listen(connection)
    this.connection = connection
    if (isLinked(this.auth.state.creds)) this.identity = ownIdentity(this.auth.state.creds)
    // While reconnecting the state (and its error) stays until the socket opens or fails again.
    if (this.status.state !== 'reconnecting') {
      await this.status.set('connecting', { lastError: null })
      await this.status.announce()
    }
  }

  private listen(connection: Connection): () => void {
    const { sock } = connection
    const auth = this.auth
    const onConnection = (update: BaileysEventMap['connection.update']) => {
      this.onConnectionUpdate(connection, update).catch((error) =>
        this.log.error({ err: error }, 'handling a connection update failed'),
      )
    }
    const onCreds = () => {
      auth?.saveCreds().catch((error) => this.log.error({ err: error }, 'saving creds failed'))
    }
    const onSocketOpen = () => this.reached(connection)
    const lookup = baileysLidLookup(sock.signalRepository.lidMapping)
    const detachReceipts = attachReceiptListeners(sock, {
      views: (views) => {
        const own = new Set([this.identity.ownNumber, jidUser(this.identity.ownLid)])
        // Our own devices' read-self/sender receipts are not views.
        const others = views.filter((view) => !own.has(jidUser(view.viewerJid)))
        if (others.length) this.deps.ingest.push(this.sessionId, others, lookup)
      },
      participantPn: (lid, pn) => this.deps.ingest.learnParticipantPn(this.sessionId, lid, pn),
    })
    const detachContacts = attachContactListeners(sock, (contacts) => {
      const own = this.identity.ownNumber
      this.deps.repos.contacts
        .upsertMany(
          this.sessionId,
          contacts.filter((c) => c.number !== own),
          this.deps.now(),
        )
        .catch((error) => this.log.warn({ err: error }, 'storing contacts failed'))
    })
    sock.ev.on('connection.update', onConnection)
    sock.ev.on('creds.update', onCreds)
    sock.ws.on('open', onSocketOpen)
    return () => {
      detachContacts()
      sock.ev.off('connection.update', onConnection)
      sock.ev.off('creds.update', onCreds)
      sock.ws.off('open', onSocketOpen)
      detachReceipts()
      connection.acks.release()
    }
  }

  private async onConnectionUpdate(connection: Connection, update: BaileysEventMap['connection.update']) {
    if (connection !== this.connection) return
    if (update.isNewLogin) connection.newLogin = true
    if (update.qr || update.connection === 'open') this.reached(connection)
    if (update.qr) await this.onQr(connection, update.qr)
    if (update.connection === 'open') await this.onOpen(connection)
    if (update.connection === 'close') await this.onClose(connection, update.lastDisconnect?.error)
  }

  private async onQr(connection: Connection, qr: string): Promise<void> {
    const first = !connection.qrSeen
    connection.qrSeen = true
    const session = this.status.record
    if (!session) return
    if (session.authMethod === 'qrcode') {
      let qrCode: string
      try {
        qrCode = await renderQrDataUrl(qr)
      } catch (error) {
        this.log.warn({ err: error }, 'rendering the QR code failed')
        await this.status.publish('qr-code-error', {
          sessionId: this.sessionId,
          error: 'Failed to generate QR code',
        })
        return
      }
      if (connection !== this.connection) return
      await this.status.set('qr', { qrCode, pairingCode: null })
      await this.status.publish('qr-code', { sessionId: this.sessionId, qrCode, authMethod: 'qrcode' })
      return
    }
    // Pairing codes: only once the socket is ready (its first QR), only once per socket.
    if (first && !isLinked(connection.sock.authState.creds)) this.requestPairing(connection, session)
  }

  private requestPairing(connection: Connection, session: SessionRecord): void {
    if (connection.pairingRequested) return
    connection.pairingRequested = true
    const phoneNumber = session.phoneNumber
    if (!phoneNumber) {
      // Nothing to retry until a number is set; the request-pairing-code command starts over then.
      this.pairing.failAll(appError('phoneNotSet'))
      void this.status.publish('pairing-code-error', {
        sessionId: this.sessionId,
        error: Messages.phoneNotSet,
      })
      return
    }
    this.pairing.track(
      connection.sock.requestPairingCode(phoneNumber).then(
        (pairingCode) => this.onPairingCode(connection, pairingCode, phoneNumber),
        // Rejects when the socket closes meanwhile; left unhandled it would crash the process.
        (error: unknown) => this.onPairingFailed(connection, error),
      ),
    )
  }

  private async onPairingCode(
    connection: Connection,
    pairingCode: string,
    phoneNumber: string,
  ): Promise<void> {
    if (connection !== this.connection) {
      this.pairing.failAll(appError('cannotPair'))
      return
    }
    await this.status.set('pairing', { pairingCode, qrCode: null, lastError: null })
    await this.status.publish('pairing-code', {
      sessionId: this.sessionId,
      pairingCode,
      phoneNumber,
      authMethod: 'pairing',
    })
    this.pairing.succeed({ pairingCode, phoneNumber })
  }

  private async onPairingFailed(connection: Connection, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : 'Pairing code request failed'
    this.log.warn({ reason: message }, 'pairing code request failed')
    this.pairing.failAll(error instanceof AppError ? error : appError('cannotPair'))
    await this.status.publish('pairing-code-error', { sessionId: this.sessionId, error: message })
    if (connection !== this.connection || !this.active) return
    // The request set `creds.me` already; a clean start needs fresh creds and a new socket.
    this.closeConnection()
    await this.wipeCreds()
    if (await this.linkRoundEnded()) return
    await this.status.set('reconnecting', { pairingCode: null, lastError: message })
    this.scheduleReconnect()
  }

  private async onOpen(connection: Connection): Promise<void> {
    this.backoff.reset()
    this.identity = ownIdentity(connection.sock.authState.creds)
    this.pairing.failAll(appError('alreadyConnected'))
    await this.status.set('open', { ...this.identity, pairingCode: null, qrCode: null, lastError: null })
    this.wakeOpenWaiters()
    await this.status.announce()
    const ownJid = this.identity.ownJid
    if (ownJid) {
      this.jobs.resume(ownJid).catch((error) => this.log.error({ err: error }, 'resuming status jobs failed'))
    }
  }

  /** WhatsApp answered this socket: the connector's logins need not hold back. */
  private reached(connection: Connection): void {
    if (connection.reachedServer) return
    connection.reachedServer = true
    this.deps.logins.reportReachable()
  }

  private async onClose(connection: Connection, error: unknown): Promise<void> {
    connection.detach()
    if (connection === this.connection) this.connection = null
    this.pairing.failAll(appError('cannotPair'))
    // Never connected: WhatsApp is down or unreachable from here, for every session alike.
    if (!connection.reachedServer) this.deps.logins.reportUnreachable()
    if (!this.active) return
    const code = disconnectStatusCode(error)
    const reason = describeDisconnect(error, code)
    switch (closeAction(code, connection.newLogin)) {
      case 'restart':
        // Pairing succeeded: a new socket with the same auth state logs in. No backoff.
        await this.openConnection()
        return
      case 'logged_out':
        this.active = false
        this.wakeOpenWaiters()
        await this.wipeCreds()
        this.identity = { ownNumber: null, ownJid: null, ownLid: null }
        await this.status.set('logged_out', {
          ...this.identity,
          pairingCode: null,
          qrCode: null,
          lastError: reason,
        })
        await this.status.announce(reason)
        return
      case 'replaced':
        this.active = false
        this.wakeOpenWaiters()
        await this.status.set('replaced', { pairingCode: null, qrCode: null, lastError: reason })
        await this.status.announce(reason)
        return
      case 'retry':
        if (hasUnfinishedPairing(connection.sock.authState.creds)) await this.wipeCreds()
        // A socket that showed codes nobody used (WhatsApp ends it once its QR refs run out).
        if (connection.qrSeen && (await this.linkRoundEnded())) return
        await this.status.set('reconnecting', { pairingCode: null, qrCode: null, lastError: reason })
        await this.status.announce(reason)
        this.scheduleReconnect()
        return
    }
  }

  /**
   * Counts a linking round that ended unused. Once `linkRounds` have, linking stops: a session
   * nobody links must not hold a socket refreshing codes forever. The session is recorded as
   * closed, so it is not restored at the next start either; start or restart links it again.
   * Returns whether linking stopped.
   */
  private async linkRoundEnded(): Promise<boolean> {
    if (++this.linkRoundsUsed < this.deps.linkRounds) return false
    this.active = false
    this.clearReconnectTimer()
    this.wakeOpenWaiters()
    const reason = linkingStopped(this.linkRoundsUsed)
    this.log.info({ rounds: this.linkRoundsUsed }, 'nobody linked the session: linking stopped')
    await this.status.set('closed', { pairingCode: null, qrCode: null, lastError: reason })
    await this.status.announce(reason)
    return true
  }

  private scheduleReconnect(): void {
    this.clearReconnectTimer()
    if (!this.active) return
    const delay = this.backoff.next()
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.queueLogin()
    }, delay)
    this.reconnectTimer.unref?.()
  }

  /** Connects once the pacer grants a login slot; stopping the session gives the slot up. */
  private queueLogin(): void {
    this.loginSlot?.cancel()
    const slot = this.deps.logins.acquire()
    this.loginSlot = slot
    void slot.granted.then(async (granted) => {
      // Cancelled, or replaced by a newer wait: not this one's turn any more.
      if (this.loginSlot !== slot) return
      this.loginSlot = null
      if (!granted || !this.active || this.connection) return
      try {
        await this.openConnection()
      } catch (error) {
        this.log.error({ err: error }, 'connecting failed')
        this.scheduleReconnect()
      }
    })
  }

  /** Drops a pending reconnect, whether it waits for its backoff delay or for a login slot. */
  private clearReconnectTimer(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    this.loginSlot?.cancel()
    this.loginSlot = null
  }

  /** Retires the current socket: its later events are ignored, then it is ended (no logout). */
  private closeConnection({ keepSocket = false }: { keepSocket?: boolean } = {}): void {
    this.clearReconnectTimer()
    const connection = this.connection
    this.connection = null
    if (!connection) return
    connection.detach()
    if (!keepSocket) endSocket(connection.sock)
  }

  private async wipeCreds(): Promise<void> {
    const auth = this.auth ?? (await this.deps.loadAuth())
    this.auth = auth
    // `clear` also resets the creds object in place, so the next socket starts a fresh link.
    await auth.clear()
    await this.deps.keyCache.flushAll()
  }
}
