/**
 * Pre-key bundles on the wire (`xmlns="encrypt"`).
 *
 * Upload (client → server, `<iq type="set">`): `<registration>` (4-byte BE id), `<type>` (0x05),
 * `<identity>` (32 bytes), `<list>` of `<key><id>` (3-byte BE) `<value>`, and `<skey>` with
 * `<id> <value> <signature>`. Fetch answers (`<iq type="get"><key><user jid/>…`) carry the same
 * children per `<user jid>`, with a single one-time `<key>` each.
 */
import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildren } from '@whiskeysockets/baileys'

export interface KeyBundle {
  registrationId: number
  identityKey: Uint8Array
  signedPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array }
  preKey?: { id: number; publicKey: Uint8Array }
}

/** What a linked client uploaded: its identity and a pool of one-time pre-keys. */
export interface UploadedKeys {
  registrationId: number
  identityKey: Uint8Array
  signedPreKey: KeyBundle['signedPreKey']
  preKeys: { id: number; publicKey: Uint8Array }[]
}

const bigEndian = (value: number, bytes: number): Buffer => {
  const out = Buffer.alloc(bytes)
  out.writeUIntBE(value, 0, bytes)
  return out
}

const childBytes = (node: BinaryNode | undefined, tag: string): Buffer => {
  const content = node && getBinaryNodeChild(node, tag)?.content
  if (!(content instanceof Uint8Array)) throw new Error(`missing <${tag}> in key bundle`)
  return Buffer.from(content)
}

const readUInt = (bytes: Buffer): number => bytes.readUIntBE(0, bytes.length)

export function keyBundleNode(jid: string, bundle: KeyBundle): BinaryNode {
  const content: BinaryNode[] = [
    { tag: 'registration', attrs: {}, content: bigEndian(bundle.registrationId, 4) },
    { tag: 'type', attrs: {}, content: Buffer.from([5]) },
    { tag: 'identity', attrs: {}, content: Buffer.from(bundle.identityKey) },
    {
      tag: 'skey',
      attrs: {},
      content: [
        { tag: 'id', attrs: {}, content: bigEndian(bundle.signedPreKey.id, 3) },
        { tag: 'value', attrs: {}, content: Buffer.from(bundle.signedPreKey.publicKey) },
        { tag: 'signature', attrs: {}, content: Buffer.from(bundle.signedPreKey.signature) },
      ],
    },
  ]
  if (bundle.preKey) {
    content.push({
      tag: 'key',
      attrs: {},
      content: [
        { tag: 'id', attrs: {}, content: bigEndian(bundle.preKey.id, 3) },
        { tag: 'value', attrs: {}, content: Buffer.from(bundle.preKey.publicKey) },
      ],
    })
  }
  return { tag: 'user', attrs: { jid }, content }
}

/** Parses the client's pre-key upload IQ. */
export function parseKeyUpload(iq: BinaryNode): UploadedKeys {
  const skey = getBinaryNodeChild(iq, 'skey')
  const list = getBinaryNodeChild(iq, 'list')
  return {
    registrationId: readUInt(childBytes(iq, 'registration')),
    identityKey: childBytes(iq, 'identity'),
    signedPreKey: {
      id: readUInt(childBytes(skey, 'id')),
      publicKey: childBytes(skey, 'value'),
      signature: childBytes(skey, 'signature'),
    },
    preKeys: (list ? getBinaryNodeChildren(list, 'key') : []).map((key) => ({
      id: readUInt(childBytes(key, 'id')),
      publicKey: childBytes(key, 'value'),
    })),
  }
}
