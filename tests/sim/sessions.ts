/**
 * Logged-in companion sessions: the login sequence, one live connection per companion, and the
 * server-initiated ways a session ends.
 *
 * Login (handshake payload with `username` + `device`): the server recognises the companion by the
 * noise key it registered with; an unknown or unlinked device gets `<failure reason="401"/>`.
 * Otherwise: `<success t lid …/>`, `<ib><edge_routing>` (the client keeps it and prefixes its next
 * connection with it), receipts held while it was offline (marked `offline`), then
 * `<ib><offline count/></ib>`, which releases Baileys' event buffer. A second login of the same
 * device replaces the first with `<stream:error><conflict type="replaced"/>`.
 */
import type { BinaryNode } from '@whiskeysockets/baileys'
import type { AccountRegistry, SimAccount } from './accounts.js'
import { newStanzaId, SERVER_JID, type SimConnection } from './connection.js'
import { unixNow } from './linking.js'
import type { HandshakeResult } from './noise.js'
import { pushInitialHistorySync } from './phone.js'

export type KickKind =
  | 'logout'
  | 'replaced'
  | 'restart'
  | 'unavailable'
  | 'drop'
  | { streamErrorCode: number }

const ROUTING_INFO = Buffer.from([0x08, 0x08, 0x08, 0x02])

const conflict = (type: string): BinaryNode => ({ tag: 'conflict', attrs: { type } })

export class Sessions {
  /** by `phone:device` */
  private readonly online = new Map<string, SimConnection>()
  /** writes what was held for a companion while it was offline; returns how many stanzas */
  flushOffline: (conn: SimConnection) => Promise<number> = async () => 0

  constructor(private readonly accounts: AccountRegistry) {}

  async login(conn: SimConnection, result: HandshakeResult): Promise<void> {
    const phone = String(result.payload.username ?? '')
    const deviceId = Number(result.payload.device ?? 0)
    const account = this.accounts.get(phone)
    const companion = account?.activeCompanion(deviceId)
    if (!account || !companion?.noiseKey.equals(result.clientStaticKey)) {
      await conn.sendNode({ tag: 'failure', attrs: { reason: '401', location: 'sim' } })
      conn.close()
      return
    }
    const key = `${phone}:${deviceId}`
    const previous = this.online.get(key)
    this.online.set(key, conn)
    conn.account = account
    conn.companion = companion
    if (previous && previous !== conn) await previous.streamError({}, conflict('replaced'))
    await conn.sendNode({
      tag: 'success',
      attrs: {
        t: unixNow(),
        props: '1',
        abprops: '1',
        location: 'sim',
        creation: unixNow(),
        ...(account.lid ? { lid: account.lidJid(deviceId)! } : {}),
      },
    })
    await conn.sendNode({
      tag: 'ib',
      attrs: {},
      content: [
        {
          tag: 'edge_routing',
          attrs: {},
          content: [{ tag: 'routing_info', attrs: {}, content: ROUTING_INFO }],
        },
      ],
    })
    const held = await this.flushOffline(conn)
    await conn.sendNode({
      tag: 'ib',
      attrs: {},
      content: [{ tag: 'offline', attrs: { count: String(held) } }],
    })
    conn.offlineDelivered = true
    this.pushHistoryLater(conn)
  }

  /** Called when a companion uploaded pre-keys: the phone can now open a session to it. */
  pushHistoryLater(conn: SimConnection): void {
    // runs outside the connection's node queue: it writes a message but waits for nothing
    setImmediate(() => void pushInitialHistorySync(conn).catch(() => undefined))
  }

  /** `<notification type="encrypt"><count/>`: with fewer than 5 left, Baileys uploads a new batch. */
  notifyPreKeysLow(account: SimAccount, deviceId: number, remaining: number): void {
    void this.open(account.phone, deviceId)?.sendNode({
      tag: 'notification',
      attrs: { from: SERVER_JID, type: 'encrypt', id: newStanzaId(), t: unixNow() },
      content: [{ tag: 'count', attrs: { value: String(remaining) } }],
    })
  }

  open(phone: string, deviceId: number): SimConnection | undefined {
    const conn = this.online.get(`${phone}:${deviceId}`)
    return conn?.isOpen ? conn : undefined
  }

  connectionsOf(phone: string, deviceId?: number): SimConnection[] {
    return [...this.online.entries()]
      .filter(
        ([key, conn]) =>
          conn.isOpen &&
          (deviceId === undefined ? key.startsWith(`${phone}:`) : key === `${phone}:${deviceId}`),
      )
      .map(([, conn]) => conn)
  }

  /**
   * Ends the companion connections of `phone` (one device or all):
   * - `logout`: `<stream:error code="401"><conflict type="device_removed"/>` → Baileys 401
   *   (loggedOut); the device is unlinked, so later logins fail with `<failure reason="401"/>`.
   * - `replaced`: `<stream:error><conflict type="replaced"/>` (no code) → 440 (connectionReplaced).
   * - `restart`: code 515 (restartRequired); `unavailable`: 503; `{ streamErrorCode }`: that code
   *   (Baileys uses any `code` attribute as the status code).
   * - `drop`: the TCP connection dies without a stream error → 428 (connectionClosed).
   */
  async kick(phone: string, kind: KickKind, deviceId?: number): Promise<number> {
    const account = this.accounts.require(phone)
    const targets = this.connectionsOf(phone, deviceId)
    if (kind === 'logout') {
      for (const companion of account.companions.values()) {
        if (deviceId === undefined || companion.deviceId === deviceId) companion.removed = true
      }
    }
    for (const conn of targets) {
      if (kind === 'drop') conn.terminate()
      else if (kind === 'logout') await conn.streamError({ code: '401' }, conflict('device_removed'))
      else if (kind === 'replaced') await conn.streamError({}, conflict('replaced'))
      else if (kind === 'restart') await conn.streamError({ code: '515' })
      else if (kind === 'unavailable') await conn.streamError({ code: '503' })
      else await conn.streamError({ code: String(kind.streamErrorCode) })
    }
    return targets.length
  }

  onClose(conn: SimConnection): void {
    for (const [key, online] of this.online) if (online === conn) this.online.delete(key)
  }

  clear(): void {
    this.online.clear()
  }
}
