/**
 * Linking a new companion: the server side of QR linking and what every linking ends with.
 *
 * A registering client (its handshake payload carries `devicePairingData`) gets
 * `<iq type="set" xmlns="md"><pair-device><ref>…</ref>…</pair-device></iq>` and shows one QR per
 * ref: `https://wa.me/settings/linked_devices#ref,noiseKeyB64,identityKeyB64,advSecretB64,platform`.
 * The phone that scans it (or that accepted a pairing code, see pairing-code.ts) signs the
 * companion (adv.ts) and the server sends `pair-success` with `<device jid lid>`; the client
 * answers `pair-device-sign`, and the server ends the stream with code 515 so the client logs in
 * anew with its fresh identity.
 */
import { randomBytes } from 'node:crypto'
import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildBuffer } from '@whiskeysockets/baileys'
import type { AccountRegistry, CompanionDevice, SimAccount } from './accounts.js'
import { isCountersigned, signCompanion } from './adv.js'
import { newStanzaId, SERVER_JID, type SimConnection } from './connection.js'

const QR_PREFIX = 'https://wa.me/settings/linked_devices#'
const REF_COUNT = 6

export interface LinkedDevice {
  jid: string
  lid?: string
}

export class Linking {
  private readonly refs = new Map<string, SimConnection>()

  constructor(private readonly accounts: AccountRegistry) {}

  /** A registering client connected: hand it QR refs. */
  async offerQrRefs(conn: SimConnection): Promise<void> {
    const refs = Array.from({ length: REF_COUNT }, () => `2@${randomBytes(24).toString('base64')}`)
    for (const ref of refs) this.refs.set(ref, conn)
    await conn.sendNode({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'set', id: newStanzaId(), xmlns: 'md' },
      content: [
        {
          tag: 'pair-device',
          attrs: {},
          content: refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })),
        },
      ],
    })
  }

  forget(conn: SimConnection): void {
    for (const [ref, owner] of this.refs) if (owner === conn) this.refs.delete(ref)
  }

  /** The phone of `phone` scans a QR string shown by a client. */
  async scanQr(qr: string, phone: string): Promise<LinkedDevice> {
    const account = this.accounts.require(phone)
    if (!qr.startsWith(QR_PREFIX)) throw new Error('not a WhatsApp linking QR')
    const [ref, noiseKeyB64, identityKeyB64, advSecretB64] = qr.slice(QR_PREFIX.length).split(',')
    const conn = ref ? this.refs.get(ref) : undefined
    if (!conn?.isOpen || !conn.registration) throw new Error('QR ref unknown or expired')
    // the QR must come from the very connection that registered with this noise key
    if (!Buffer.from(noiseKeyB64 ?? '', 'base64').equals(conn.registration.clientStaticKey)) {
      throw new Error('QR noise key does not match the connection')
    }
    this.forget(conn)
    return this.pairCompanion(
      conn,
      account,
      Buffer.from(identityKeyB64 ?? '', 'base64'),
      Buffer.from(advSecretB64 ?? '', 'base64'),
    )
  }

  /** The phone signs the companion into its account; the server confirms and restarts the stream. */
  async pairCompanion(
    conn: SimConnection,
    account: SimAccount,
    companionIdentity: Buffer,
    advSecret: Buffer,
  ): Promise<LinkedDevice> {
    const pairing = conn.registration?.payload.devicePairingData
    if (!pairing?.eIdent || !Buffer.from(pairing.eIdent).equals(companionIdentity)) {
      throw new Error('companion identity does not match its registration')
    }
    const deviceId = account.allocateDeviceId()
    const keyIndex = account.allocateKeyIndex()
    const deviceIdentity = signCompanion(
      account.phoneDevice.identityKey,
      companionIdentity,
      advSecret,
      keyIndex,
    )
    const device: LinkedDevice = { jid: account.pnJid(deviceId), lid: account.lidJid(deviceId) }
    const reply = await conn.query({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'set', xmlns: 'md' },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            { tag: 'device-identity', attrs: {}, content: deviceIdentity },
            { tag: 'platform', attrs: { name: 'android' } },
            { tag: 'device', attrs: device.lid ? { jid: device.jid, lid: device.lid } : { jid: device.jid } },
          ],
        },
      ],
    })
    const signed = getBinaryNodeChildBuffer(getBinaryNodeChild(reply, 'pair-device-sign'), 'device-identity')
    if (reply.attrs.type !== 'result' || !signed) throw new Error('client rejected pair-success')
    if (!isCountersigned(signed)) throw new Error('client did not countersign its device identity')
    account.companions.set(deviceId, newCompanion(conn, deviceId, keyIndex))
    await conn.streamError({ code: '515' })
    return device
  }
}

/** The companion as registered: its handshake payload already carries its signed pre-key. */
function newCompanion(conn: SimConnection, deviceId: number, keyIndex: number): CompanionDevice {
  const pairing = conn.registration!.payload.devicePairingData!
  const toInt = (bytes?: Uint8Array | null) =>
    bytes?.length ? Buffer.from(bytes).readUIntBE(0, bytes.length) : 0
  return {
    deviceId,
    keyIndex,
    noiseKey: conn.registration!.clientStaticKey,
    keys: {
      registrationId: toInt(pairing.eRegid),
      identityKey: Buffer.from(pairing.eIdent!),
      signedPreKey: {
        id: toInt(pairing.eSkeyId),
        publicKey: Buffer.from(pairing.eSkeyVal ?? []),
        signature: Buffer.from(pairing.eSkeySig ?? []),
      },
      preKeys: [],
    },
    needsInitialSync: true,
    removed: false,
    pending: [],
  }
}

export const unixNow = (): string => String(Math.floor(Date.now() / 1000))

export function iqError(iq: BinaryNode, code: number, text: string): BinaryNode {
  return {
    tag: 'iq',
    attrs: { from: SERVER_JID, type: 'error', id: iq.attrs.id! },
    content: [{ tag: 'error', attrs: { code: String(code), text } }],
  }
}
