/**
 * ADV ("account device verification"): how the primary phone vouches for a companion.
 *
 * ADVDeviceIdentity { rawId, timestamp, keyIndex } is signed by the account identity key (the
 * phone's Signal identity) over `06 00` ‖ details ‖ companion identity key → ADVSignedDeviceIdentity
 * { details, accountSignatureKey, accountSignature }. That is wrapped in
 * ADVSignedDeviceIdentityHMAC { details, hmac = HMAC-SHA256(advSecret, details) }: the ADV secret
 * is only known to the companion (QR 4th field) or derived by both sides (pairing code), which
 * proves to the companion that this phone is the one it showed its QR/code to. The companion
 * answers with the same structure plus its own `deviceSignature` (`06 01` prefix).
 */
import { randomInt } from 'node:crypto'
import { Curve, hmacSign, proto } from '@whiskeysockets/baileys'

const ADV_ACCOUNT_SIG_PREFIX = Buffer.from([6, 0])

export interface AccountIdentity {
  public: Uint8Array
  private: Uint8Array
}

/** Builds the `<device-identity>` content of `pair-success`. */
export function signCompanion(
  account: AccountIdentity,
  companionIdentity: Uint8Array,
  advSecret: Uint8Array,
  keyIndex: number,
): Buffer {
  const details = proto.ADVDeviceIdentity.encode({
    rawId: randomInt(1, 2 ** 31),
    timestamp: Math.floor(Date.now() / 1000),
    keyIndex,
  }).finish()
  const accountSignature = Curve.sign(
    account.private,
    Buffer.concat([ADV_ACCOUNT_SIG_PREFIX, details, companionIdentity]),
  )
  const signed = proto.ADVSignedDeviceIdentity.encode({
    details,
    accountSignatureKey: account.public,
    accountSignature,
  }).finish()
  return Buffer.from(
    proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac: hmacSign(signed, advSecret) }).finish(),
  )
}

/** True when the companion's `pair-device-sign` reply carries its 64-byte device signature. */
export function isCountersigned(reply: Uint8Array): boolean {
  return proto.ADVSignedDeviceIdentity.decode(reply).deviceSignature?.length === 64
}
