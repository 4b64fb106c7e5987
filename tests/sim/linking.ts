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
 *
 * `registerCompanion` is the same server-side outcome without a linking connection: a client that
 * made its keys offline presents their public parts, the phone signs it into the account, and the
 * answer is what `pair-success` would have carried. The client applies it as Baileys does
 * (registered-creds.ts) and then logs in like any linked companion. It lets a test or a bench have
 * many linked sessions without a QR scan or pairing code each.
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

/** The public parts of a companion's keys, as its registration handshake payload would carry them. */
export interface CompanionRegistration {
  /** Noise static public key: the server recognises the companion by it at login */
  noiseKey: Buffer
  /** Signal identity public key (32 bytes) */
  identityKey: Buffer
  /** the ADV secret the companion would have put in its QR code */
  advSecret: Buffer
  registrationId: number
  signedPreKey: { id: number; publicKey: Buffer; signature: Buffer }
  /**
   * One-time pre-keys already on the server, as for a companion that has logged in before. With
   * more than five, Baileys' first login has nothing to upload; without, it uploads 812.
   */
  preKeys?: { id: number; publicKey: Buffer }[]
}

/** What `pair-success` carries for a companion registered by `registerCompanion`. */
export interface RegisteredCompanion extends LinkedDevice {
  deviceId: number
  platform: string
  /** `<device-identity>`: ADVSignedDeviceIdentityHMAC, keyed with the companion's ADV secret */
  deviceIdentity: Buffer
}

const PLATFORM = 'android'

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
            { tag: 'platform', attrs: { name: PLATFORM } },
            { tag: 'device', attrs: device.lid ? { jid: device.jid, lid: device.lid } : { jid: device.jid } },
          ],
        },
      ],
    })
    const signed = getBinaryNodeChildBuffer(getBinaryNodeChild(reply, 'pair-device-sign'), 'device-identity')
    if (reply.attrs.type !== 'result' || !signed) throw new Error('client rejected pair-success')
    if (!isCountersigned(signed)) throw new Error('client did not countersign its device identity')
    account.companions.set(deviceId, newCompanion(deviceId, keyIndex, registrationOf(conn, advSecret)))
    await conn.streamError({ code: '515' })
    return device
  }

  /**
   * The phone signs a companion that registered offline into its account. It is linked from now
   * on: its first login is that of a freshly paired companion (history sync; a pre-key upload
   * unless it registered pre-keys too).
   */
  registerCompanion(account: SimAccount, registration: CompanionRegistration): RegisteredCompanion {
    if (registration.noiseKey.length !== 32 || registration.identityKey.length !== 32) {
      throw new Error('noise and identity keys must be 32-byte public keys')
    }
    if (!registration.advSecret.length) throw new Error('an ADV secret is required')
    const deviceId = account.allocateDeviceId()
    const keyIndex = account.allocateKeyIndex()
    const deviceIdentity = signCompanion(
      account.phoneDevice.identityKey,
      registration.identityKey,
      registration.advSecret,
      keyIndex,
    )
    account.companions.set(deviceId, newCompanion(deviceId, keyIndex, registration))
    const lid = account.lidJid(deviceId)
    return {
      deviceId,
      jid: account.pnJid(deviceId),
      ...(lid ? { lid } : {}),
      platform: PLATFORM,
      deviceIdentity,
    }
  }
}

/** What a registering connection's handshake payload presented. */
function registrationOf(conn: SimConnection, advSecret: Buffer): CompanionRegistration {
  const pairing = conn.registration!.payload.devicePairingData!
  const toInt = (bytes?: Uint8Array | null) =>
    bytes?.length ? Buffer.from(bytes).readUIntBE(0, bytes.length) : 0
  return {
    noiseKey: conn.registration!.clientStaticKey,
    identityKey: Buffer.from(pairing.eIdent!),
    advSecret,
    registrationId: toInt(pairing.eRegid),
    signedPreKey: {
      id: toInt(pairing.eSkeyId),
      publicKey: Buffer.from(pairing.eSkeyVal ?? []),
      signature: Buffer.from(pairing.eSkeySig ?? []),
    },
  }
}

/** The companion as registered: it presented its signed pre-key already; one-time keys come later. */
function newCompanion(
  deviceId: number,
  keyIndex: number,
  registration: CompanionRegistration,
): CompanionDevice {
  return {
    deviceId,
    keyIndex,
    noiseKey: registration.noiseKey,
    keys: {
      registrationId: registration.registrationId,
      identityKey: registration.identityKey,
      signedPreKey: registration.signedPreKey,
      preKeys: [...(registration.preKeys ?? [])],
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
