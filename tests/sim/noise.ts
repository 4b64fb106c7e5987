/**
 * Server side of the WhatsApp Web Noise XX handshake (`Noise_XX_25519_AESGCM_SHA256`).
 *
 * Mirrors Baileys' client `makeNoiseHandler`:
 * - The 32-byte protocol name is used raw (no hashing) as the initial hash, chaining key ("salt")
 *   and cipher key.
 * - `authenticate(x)`: hash = SHA256(hash || x). The noise header (`WA 06 03`, never the `ED`
 *   routing prefix) and the client ephemeral key are mixed in first.
 * - `mixIntoKey(dh)`: HKDF(dh, 64, salt = chaining key, info = '') → [new chaining key, new key];
 *   the nonce counter restarts at 0.
 * - Handshake AEAD is AES-256-GCM, AAD = current hash, IV = 8 zero bytes + 4-byte BE counter; every
 *   ciphertext (sent or received) is mixed into the hash afterwards.
 * - Transport: HKDF(empty, 64, salt = chaining key) → [client→server key, server→client key],
 *   each direction with its own counter from 0 and empty AAD.
 */

import type { KeyPair } from '@whiskeysockets/baileys'
import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, NOISE_MODE, proto, sha256 } from '@whiskeysockets/baileys'

const EMPTY = Buffer.alloc(0)

const counterIv = (counter: number): Buffer => {
  const iv = Buffer.alloc(12)
  iv.writeUInt32BE(counter, 8)
  return iv
}

export class NoiseTransport {
  private readCounter = 0
  private writeCounter = 0

  constructor(
    private readonly encKey: Uint8Array,
    private readonly decKey: Uint8Array,
  ) {}

  encrypt(plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.encKey, counterIv(this.writeCounter++), EMPTY)
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.decKey, counterIv(this.readCounter++), EMPTY)
  }
}

export interface HandshakeResult {
  /** the client's long-term noise key (`creds.noiseKey.public`): identifies a linked companion */
  clientStaticKey: Buffer
  payload: proto.ClientPayload
  transport: NoiseTransport
}

export class ServerHandshake {
  private hash: Buffer
  private salt: Buffer
  private key: Buffer
  private counter = 0
  private readonly ephemeral: KeyPair = Curve.generateKeyPair()
  private clientEphemeral?: Buffer

  constructor(
    private readonly serverStatic: KeyPair,
    private readonly certChain: Uint8Array,
  ) {
    const initial = Buffer.from(NOISE_MODE)
    this.hash = initial.length === 32 ? initial : sha256(initial)
    this.salt = this.hash
    this.key = this.hash
  }

  /** Consumes the client hello frame and returns the server hello frame payload. */
  respondToHello(noiseHeader: Buffer, helloFrame: Uint8Array): Buffer {
    const hello = proto.HandshakeMessage.decode(helloFrame).clientHello
    if (hello?.ephemeral?.length !== 32) throw new Error('client hello without ephemeral key')
    this.clientEphemeral = Buffer.from(hello.ephemeral)
    this.authenticate(noiseHeader)
    this.authenticate(this.clientEphemeral)

    this.authenticate(this.ephemeral.public)
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, this.clientEphemeral))
    const encryptedStatic = this.encrypt(this.serverStatic.public)
    this.mixIntoKey(Curve.sharedKey(this.serverStatic.private, this.clientEphemeral))
    const encryptedCerts = this.encrypt(this.certChain)
    return Buffer.from(
      proto.HandshakeMessage.encode({
        serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedCerts },
      }).finish(),
    )
  }

  /** Consumes the client finish frame: authenticates the client's static key and reads its payload. */
  finish(finishFrame: Uint8Array): HandshakeResult {
    const finish = proto.HandshakeMessage.decode(finishFrame).clientFinish
    if (!finish?.static || !finish.payload) throw new Error('client finish incomplete')
    const clientStaticKey = this.decrypt(finish.static)
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientStaticKey))
    const payload = proto.ClientPayload.decode(this.decrypt(finish.payload))
    const [clientToServer, serverToClient] = this.split(EMPTY)
    return { clientStaticKey, payload, transport: new NoiseTransport(serverToClient, clientToServer) }
  }

  private authenticate(data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]))
  }

  private split(data: Uint8Array): [Buffer, Buffer] {
    const out = Buffer.from(hkdf(Buffer.from(data), 64, { salt: this.salt, info: '' }))
    return [out.subarray(0, 32), out.subarray(32)]
  }

  private mixIntoKey(data: Uint8Array): void {
    const [salt, key] = this.split(data)
    this.salt = salt
    this.key = key
    this.counter = 0
  }

  private encrypt(plaintext: Uint8Array): Buffer {
    const result = aesEncryptGCM(plaintext, this.key, counterIv(this.counter++), this.hash)
    this.authenticate(result)
    return result
  }

  private decrypt(ciphertext: Uint8Array): Buffer {
    const result = aesDecryptGCM(ciphertext, this.key, counterIv(this.counter++), this.hash)
    this.authenticate(ciphertext)
    return result
  }
}
