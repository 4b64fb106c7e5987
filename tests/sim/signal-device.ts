/**
 * A simulated WhatsApp device with a real Signal identity: it hands out pre-key bundles and
 * decrypts what a Baileys client encrypts for it, using Baileys' own Signal repository
 * (`DEFAULT_CONNECTION_CONFIG.makeSignalRepository`) over an in-memory key store.
 */
import {
  type AuthenticationCreds,
  type BinaryNode,
  Curve,
  DEFAULT_CONNECTION_CONFIG,
  encodeWAMessage,
  initAuthCreds,
  proto,
  type SignalRepositoryWithLIDStore,
  unpadRandomMax16,
} from '@whiskeysockets/baileys'
import { silentLogger } from './logger.js'
import { makeMemoryKeyStore, withTransactions } from './memory-keys.js'
import { type KeyBundle, keyBundleNode } from './prekeys.js'

export type PnToLid = (pnJids: string[]) => { pn: string; lid: string }[]

export class SignalDevice {
  private readonly keys = withTransactions(makeMemoryKeyStore())
  private nextPreKeyId = 1
  private signal?: { creds: AuthenticationCreds; repository: SignalRepositoryWithLIDStore }

  /**
   * @param jid the device's own JID (PN form)
   * @param pnToLid the server's PN→LID directory, so sessions are keyed by LID like a real client's
   */
  constructor(
    readonly jid: string,
    private readonly pnToLid?: PnToLid,
  ) {}

  /**
   * Keys are made on first use: generating them costs ~15 ms, and most accounts of a large test
   * (a thousand status viewers) only ever send receipts, which need no Signal identity.
   */
  get creds(): AuthenticationCreds {
    return this.ensureSignal().creds
  }

  get repository(): SignalRepositoryWithLIDStore {
    return this.ensureSignal().repository
  }

  private ensureSignal() {
    if (!this.signal) {
      const creds = initAuthCreds()
      const pnToLid = this.pnToLid
      const repository = DEFAULT_CONNECTION_CONFIG.makeSignalRepository(
        { creds, keys: this.keys },
        silentLogger,
        pnToLid && (async (pns) => pnToLid(pns)),
      )
      this.signal = { creds, repository }
    }
    return this.signal
  }

  get identityKey(): { public: Uint8Array; private: Uint8Array } {
    return this.creds.signedIdentityKey
  }

  /** A bundle with a fresh one-time pre-key, as the server hands out for `encrypt <key>` queries. */
  async takeBundle(): Promise<KeyBundle> {
    const id = this.nextPreKeyId++
    const preKey = Curve.generateKeyPair()
    await this.keys.set({ 'pre-key': { [id]: preKey } })
    return {
      registrationId: this.creds.registrationId,
      identityKey: this.creds.signedIdentityKey.public,
      signedPreKey: {
        id: this.creds.signedPreKey.keyId,
        publicKey: this.creds.signedPreKey.keyPair.public,
        signature: this.creds.signedPreKey.signature,
      },
      preKey: { id, publicKey: preKey.public },
    }
  }

  async bundleNode(jid: string): Promise<BinaryNode> {
    return keyBundleNode(jid, await this.takeBundle())
  }

  /** Decrypts a pairwise (`pkmsg`/`msg`) payload from `senderJid`; returns the decoded message. */
  async decryptPairwise(
    senderJid: string,
    type: 'pkmsg' | 'msg',
    ciphertext: Uint8Array,
  ): Promise<proto.IMessage> {
    const plain = await this.repository.decryptMessage({ jid: senderJid, type, ciphertext })
    return proto.Message.decode(unpadRandomMax16(plain))
  }

  async processSenderKey(
    authorJid: string,
    item: proto.Message.ISenderKeyDistributionMessage,
  ): Promise<void> {
    await this.repository.processSenderKeyDistributionMessage({ authorJid, item })
  }

  /** Decrypts a sender-key (`skmsg`) payload of `group` (e.g. `status@broadcast`) from `authorJid`. */
  async decryptGroup(group: string, authorJid: string, ciphertext: Uint8Array): Promise<proto.IMessage> {
    const plain = await this.repository.decryptGroupMessage({ group, authorJid, msg: ciphertext })
    return proto.Message.decode(unpadRandomMax16(plain))
  }

  /** Encrypts a message for another device whose bundle we were given (opens a session if needed). */
  async encryptFor(
    recipientJid: string,
    bundle: KeyBundle | undefined,
    message: proto.IMessage,
  ): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Uint8Array }> {
    const session = await this.repository.validateSession(recipientJid)
    if (!session.exists) {
      if (!bundle) throw new Error(`no session with ${recipientJid} and no bundle to open one`)
      await this.repository.injectE2ESession({
        jid: recipientJid,
        session: {
          registrationId: bundle.registrationId,
          identityKey: withKeyType(bundle.identityKey),
          signedPreKey: {
            keyId: bundle.signedPreKey.id,
            publicKey: withKeyType(bundle.signedPreKey.publicKey),
            signature: bundle.signedPreKey.signature,
          },
          preKey: bundle.preKey && {
            keyId: bundle.preKey.id,
            publicKey: withKeyType(bundle.preKey.publicKey),
          },
        },
      })
    }
    const { type, ciphertext } = await this.repository.encryptMessage({
      jid: recipientJid,
      data: encodeWAMessage(message),
    })
    return { type: type as 'pkmsg' | 'msg', ciphertext }
  }
}

/** libsignal wants 33-byte public keys (0x05 type prefix); the wire carries 32. */
const withKeyType = (key: Uint8Array): Buffer =>
  key.length === 33 ? Buffer.from(key) : Buffer.concat([Buffer.from([5]), key])
