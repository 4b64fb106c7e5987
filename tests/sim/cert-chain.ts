/**
 * The noise certificate chain the server sends (encrypted) in its hello.
 *
 * Baileys decodes `CertChain { leaf, intermediate }` and checks its *structure*: both certificates
 * need `details` and a 64-byte `signature`, the keys must be 32 (or 33 with a 0x05 prefix) bytes,
 * and the intermediate's `Details.issuerSerial` must equal 0 — it has to be set explicitly,
 * because protobuf decodes an absent field as `null`, which fails `!== 0`. The signature checks
 * themselves cannot fail once the formats are right (libsignal's boolean result is ignored), so the
 * simulator signs with its own root key instead of WhatsApp's.
 */
import { Curve, type KeyPair, proto } from '@whiskeysockets/baileys'

const ONE_YEAR_S = 365 * 24 * 3600

export function makeNoiseCertChain(
  serverStaticPublic: Uint8Array,
  root: KeyPair = Curve.generateKeyPair(),
): Buffer {
  const now = Math.floor(Date.now() / 1000)
  const intermediateKey = Curve.generateKeyPair()
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 1,
    issuerSerial: 0,
    key: intermediateKey.public,
    notBefore: now - 60,
    notAfter: now + ONE_YEAR_S,
  }).finish()
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 2,
    issuerSerial: 1,
    key: serverStaticPublic,
    notBefore: now - 60,
    notAfter: now + ONE_YEAR_S,
  }).finish()
  return Buffer.from(
    proto.CertChain.encode({
      intermediate: {
        details: intermediateDetails,
        signature: Curve.sign(root.private, intermediateDetails),
      },
      leaf: { details: leafDetails, signature: Curve.sign(intermediateKey.private, leafDetails) },
    }).finish(),
  )
}
