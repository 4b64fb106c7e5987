/**
 * Decrypting uploaded status media the way a recipient does: keys from HKDF(mediaKey) per media
 * type; the upload is AES-256-CBC ciphertext followed by a 10-byte HMAC-SHA256 (iv ‖ ciphertext).
 */
import {
  aesDecryptWithIV,
  getMediaKeys,
  hmacSign,
  normalizeMessageContent,
  type proto,
} from '@whiskeysockets/baileys'
import type { MediaServer } from './media.js'

const MAC_LENGTH = 10

export async function decryptStatusMedia(raw: proto.IMessage, media: MediaServer): Promise<Buffer> {
  const message = normalizeMessageContent(raw) ?? raw
  const content = message.imageMessage ?? message.videoMessage
  const mediaType = message.imageMessage ? 'image' : 'video'
  if (!content?.mediaKey || !content.directPath) throw new Error('status has no media')
  const upload = media.find(content.directPath)
  if (!upload) throw new Error('media was never uploaded to the simulator')
  const { iv, cipherKey, macKey } = await getMediaKeys(content.mediaKey, mediaType)
  const ciphertext = upload.body.subarray(0, upload.body.length - MAC_LENGTH)
  const mac = hmacSign(Buffer.concat([iv, ciphertext]), macKey!).subarray(0, MAC_LENGTH)
  if (!mac.equals(upload.body.subarray(upload.body.length - MAC_LENGTH)))
    throw new Error('media MAC mismatch')
  return aesDecryptWithIV(ciphertext, cipherKey, iv)
}
