/**
 * Pairing-code linking, server and phone side.
 *
 * The client asks with `<iq xmlns="md"><link_code_companion_reg stage="companion_hello">`, carrying
 * its ephemeral key wrapped as salt(32) ‖ iv(16) ‖ AES-256-CTR(key = PBKDF2-SHA256(code, salt,
 * 131072 rounds, 32 bytes)); the server answers with a pairing ref. The phone (told the code by
 * the test) unwraps that key and sends the `link_code_companion_reg` notification with the ref, its
 * identity key and its own ephemeral key wrapped the same way. The client replies
 * `stage="companion_finish"` with salt(32) ‖ iv(12) ‖ AES-256-GCM(companion identity ‖ primary
 * identity ‖ random(32)) keyed by HKDF(DH(ephemerals), salt,
 * 'link_code_pairing_key_bundle_encryption_key'), and waits (up to 60 s) for a result. Both sides
 * then derive the ADV secret = HKDF(DH(ephemerals) ‖ DH(identities) ‖ random, info 'adv_secret')
 * and linking ends as for QR (pair-success, 515).
 */
import { randomBytes } from 'node:crypto'
import {
  aesDecryptCTR,
  aesDecryptGCM,
  aesEncryptCTR,
  type BinaryNode,
  Curve,
  derivePairingCodeKey,
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  hkdf,
} from '@whiskeysockets/baileys'
import type { AccountRegistry } from './accounts.js'
import { newStanzaId, SERVER_JID, type SimConnection } from './connection.js'
import { iqError, type LinkedDevice, type Linking, unixNow } from './linking.js'

/** salt(32) ‖ iv(16) ‖ CTR-encrypted 32-byte key */
const WRAPPED_KEY_LENGTH = 80

interface PendingCodeLink {
  conn: SimConnection
  ref: Buffer
  wrappedCompanionEphemeral: Buffer
  finish?: (iq: BinaryNode) => void
}

export class PairingCodes {
  private readonly pending = new Map<string, PendingCodeLink>()
  private readonly helloWaiters = new Map<string, (() => void)[]>()

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly linking: Linking,
  ) {}

  forget(conn: SimConnection): void {
    for (const [phone, link] of this.pending) if (link.conn === conn) this.pending.delete(phone)
  }

  /** Client IQ `stage="companion_hello"`: remember it until the phone enters the code. */
  async onCompanionHello(conn: SimConnection, iq: BinaryNode, reg: BinaryNode): Promise<void> {
    const phone = (reg.attrs.jid ?? '').split('@')[0]!.split(':')[0]!
    const wrapped = getBinaryNodeChildBuffer(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub')
    const valid = wrapped?.length === WRAPPED_KEY_LENGTH
    const ref = randomBytes(16)
    if (valid) {
      this.pending.set(phone, { conn, ref, wrappedCompanionEphemeral: Buffer.from(wrapped) })
      for (const wake of this.helloWaiters.get(phone)?.splice(0) ?? []) wake()
    }
    await conn.sendNode({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: valid ? 'result' : 'error', id: iq.attrs.id! },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: ref }],
        },
      ],
    })
  }

  /** Client IQ `stage="companion_finish"`: hand it to the phone waiting for it. */
  onCompanionFinish(conn: SimConnection, iq: BinaryNode, reg: BinaryNode): boolean {
    const ref = getBinaryNodeChildBuffer(reg, 'link_code_pairing_ref')
    for (const link of this.pending.values()) {
      if (link.conn === conn && ref && link.ref.equals(ref) && link.finish) {
        link.finish(iq)
        return true
      }
    }
    return false
  }

  /** The phone of `phone` types the pairing code its client displays. */
  async enterPairingCode(phone: string, code: string, timeoutMs = 15_000): Promise<LinkedDevice> {
    const account = this.accounts.require(phone)
    const link = await this.waitForHello(phone)
    if (!link?.conn.isOpen || !link.conn.registration) throw new Error(`no pairing code request for ${phone}`)
    const { conn, ref, wrappedCompanionEphemeral: wrapped } = link
    const companionEphemeral = aesDecryptCTR(
      wrapped.subarray(48, 80),
      await derivePairingCodeKey(code, wrapped.subarray(0, 32)),
      wrapped.subarray(32, 48),
    )
    const primaryEphemeral = Curve.generateKeyPair()
    const finished = new Promise<BinaryNode>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('client never sent companion_finish')), timeoutMs)
      link.finish = (iq) => {
        clearTimeout(timer)
        resolve(iq)
      }
    })
    await conn.sendNode({
      tag: 'notification',
      attrs: { from: SERVER_JID, type: 'link_code_companion_reg', id: newStanzaId(), t: unixNow() },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [
            { tag: 'link_code_pairing_ref', attrs: {}, content: ref },
            {
              tag: 'primary_identity_pub',
              attrs: {},
              content: Buffer.from(account.phoneDevice.identityKey.public),
            },
            {
              tag: 'link_code_pairing_wrapped_primary_ephemeral_pub',
              attrs: {},
              content: await wrapWithCode(code, primaryEphemeral.public),
            },
          ],
        },
      ],
    })
    const iq = await finished
    this.pending.delete(phone)
    const ephemeralShared = Curve.sharedKey(primaryEphemeral.private, companionEphemeral)
    const bundle = openKeyBundle(iq, ephemeralShared)
    if (!bundle) {
      // a wrong code gives both sides different keys: the phone cannot open the bundle
      await conn.sendNode(iqError(iq, 401, 'not-authorized'))
      throw new Error('pairing code rejected: key bundle does not decrypt')
    }
    const identityShared = Curve.sharedKey(account.phoneDevice.identityKey.private, bundle.companionIdentity)
    const advSecret = Buffer.from(
      hkdf(Buffer.concat([ephemeralShared, identityShared, bundle.random]), 32, { info: 'adv_secret' }),
    )
    await conn.sendNode({ tag: 'iq', attrs: { from: SERVER_JID, type: 'result', id: iq.attrs.id! } })
    return this.linking.pairCompanion(conn, account, bundle.companionIdentity, advSecret)
  }

  /**
   * `requestPairingCode` resolves once its IQ is written, so a test can type the code before the
   * server has read the request: give it a moment to arrive.
   */
  private async waitForHello(phone: string, waitMs = 5_000): Promise<PendingCodeLink | undefined> {
    if (!this.pending.has(phone)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs)
        const waiters = this.helloWaiters.get(phone) ?? []
        waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
        this.helloWaiters.set(phone, waiters)
      })
    }
    return this.pending.get(phone)
  }
}

async function wrapWithCode(code: string, key: Uint8Array): Promise<Buffer> {
  const salt = randomBytes(32)
  const iv = randomBytes(16)
  return Buffer.concat([salt, iv, aesEncryptCTR(key, await derivePairingCodeKey(code, salt), iv)])
}

function openKeyBundle(
  iq: BinaryNode,
  ephemeralShared: Buffer,
): { companionIdentity: Buffer; random: Buffer } | undefined {
  const reg = getBinaryNodeChild(iq, 'link_code_companion_reg')
  const wrapped = reg && getBinaryNodeChildBuffer(reg, 'link_code_pairing_wrapped_key_bundle')
  if (!wrapped) return undefined
  try {
    const key = hkdf(ephemeralShared, 32, {
      salt: wrapped.subarray(0, 32),
      info: 'link_code_pairing_key_bundle_encryption_key',
    })
    const plain = aesDecryptGCM(wrapped.subarray(44), key, wrapped.subarray(32, 44), Buffer.alloc(0))
    return { companionIdentity: plain.subarray(0, 32), random: plain.subarray(64, 96) }
  } catch {
    return undefined
  }
}
