/**
 * Linked Baileys creds without a linking connection, for tests and benches that need many linked
 * sessions. Fresh creds (`initAuthCreds()`) present the public parts of their keys to the simulator
 * (`WaSimulator.registerCompanion`, or `POST /accounts/:phone/companions` from another process);
 * the phone signs the companion into the account, and the answer is what `pair-success` carries.
 * It is applied by Baileys' own `configureSuccessfulPairing`, on the `pair-success` stanza the
 * server would have sent: the same checks (ADV HMAC, account signature), the same countersigned
 * reply and the same creds update (`me`, `account`, `signalIdentities`, `platform`). `registered`
 * is set as after a pairing-code link. A socket given these creds logs straight in, and its first
 * login is that of a freshly linked companion: the history-sync notice, and the upload of 812
 * one-time pre-keys unless `generatePreKeys` made some to register with it (what a companion that
 * has logged in before has on the server; the caller stores their key pairs in its key store).
 */
import {
  type AuthenticationCreds,
  type BinaryNode,
  Curve,
  configureSuccessfulPairing,
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  type KeyPair,
} from '@whiskeysockets/baileys'
import { isCountersigned } from './adv.js'
import type { CompanionRegistration, RegisteredCompanion } from './linking.js'

/** The body of `POST /accounts/:phone/companions`: bytes in base64. */
export interface CompanionRegistrationBody {
  noiseKey: string
  identityKey: string
  advSecret: string
  registrationId: number
  signedPreKey: { id: number; publicKey: string; signature: string }
  preKeys?: { id: number; publicKey: string }[]
}

/** Its answer. */
export interface RegistrationAnswer {
  deviceId: number
  jid: string
  lid: string | null
  platform: string
  /** base64 ADVSignedDeviceIdentityHMAC */
  deviceIdentity: string
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/**
 * `count` one-time pre-keys from `creds.nextPreKeyId` on, counted as uploaded in `creds` (they are
 * registered with the companion). Store the returned key pairs as `pre-key` in the key store.
 */
export function generatePreKeys(creds: AuthenticationCreds, count: number): Record<string, KeyPair> {
  const keys: Record<string, KeyPair> = {}
  for (let i = 0; i < count; i++) keys[String(creds.nextPreKeyId + i)] = Curve.generateKeyPair()
  creds.nextPreKeyId += count
  creds.firstUnuploadedPreKeyId = creds.nextPreKeyId
  return keys
}

/** What the creds (and pre-keys from `generatePreKeys`) present to register, for the control API. */
export function registrationBody(
  creds: AuthenticationCreds,
  preKeys: Record<string, KeyPair> = {},
): CompanionRegistrationBody {
  const listed = Object.entries(preKeys).map(([id, pair]) => ({
    id: Number(id),
    publicKey: b64(pair.public),
  }))
  return {
    ...(listed.length ? { preKeys: listed } : {}),
    noiseKey: b64(creds.noiseKey.public),
    identityKey: b64(creds.signedIdentityKey.public),
    advSecret: creds.advSecretKey,
    registrationId: creds.registrationId,
    signedPreKey: {
      id: creds.signedPreKey.keyId,
      publicKey: b64(creds.signedPreKey.keyPair.public),
      signature: b64(creds.signedPreKey.signature),
    },
  }
}

/** The same, for a simulator in this process. */
export function companionRegistration(
  creds: AuthenticationCreds,
  preKeys: Record<string, KeyPair> = {},
): CompanionRegistration {
  const body = registrationBody(creds, preKeys)
  const bytes = (value: string) => Buffer.from(value, 'base64')
  return {
    noiseKey: bytes(body.noiseKey),
    identityKey: bytes(body.identityKey),
    advSecret: bytes(body.advSecret),
    registrationId: body.registrationId,
    signedPreKey: {
      id: body.signedPreKey.id,
      publicKey: bytes(body.signedPreKey.publicKey),
      signature: bytes(body.signedPreKey.signature),
    },
    ...(body.preKeys
      ? { preKeys: body.preKeys.map((key) => ({ id: key.id, publicKey: bytes(key.publicKey) })) }
      : {}),
  }
}

/**
 * Updates `creds` in place with the simulator's answer, through Baileys' handling of
 * `pair-success`. Throws when Baileys rejects the answer or does not countersign it.
 */
export function applyRegistration(
  creds: AuthenticationCreds,
  answer: RegisteredCompanion | RegistrationAnswer,
): void {
  const deviceIdentity =
    typeof answer.deviceIdentity === 'string'
      ? Buffer.from(answer.deviceIdentity, 'base64')
      : answer.deviceIdentity
  const device: Record<string, string> = answer.lid
    ? { jid: answer.jid, lid: answer.lid }
    : { jid: answer.jid }
  const stanza: BinaryNode = {
    tag: 'iq',
    attrs: { from: 's.whatsapp.net', type: 'set', id: 'registered', xmlns: 'md' },
    content: [
      {
        tag: 'pair-success',
        attrs: {},
        content: [
          { tag: 'device-identity', attrs: {}, content: deviceIdentity },
          { tag: 'platform', attrs: { name: answer.platform } },
          { tag: 'device', attrs: device },
        ],
      },
    ],
  }
  const { creds: update, reply } = configureSuccessfulPairing(stanza, creds)
  const signed = getBinaryNodeChildBuffer(getBinaryNodeChild(reply, 'pair-device-sign'), 'device-identity')
  if (!signed || !isCountersigned(signed)) throw new Error('Baileys did not countersign its device identity')
  Object.assign(creds, update, { registered: true })
}
