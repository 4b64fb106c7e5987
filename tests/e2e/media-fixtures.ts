import { randomBytes } from 'node:crypto'
import QRCode from 'qrcode'

/** A real PNG (what sharp can thumbnail), with content unique to `label`. */
export const pngImage = (label: string): Promise<Buffer> => QRCode.toBuffer(label, { width: 64 })

const box = (type: string, payload: Buffer): Buffer => {
  const header = Buffer.alloc(8)
  header.writeUInt32BE(8 + payload.length, 0)
  header.write(type, 4, 'latin1')
  return Buffer.concat([header, payload])
}

/**
 * The smallest file that is an MP4 to the API's type sniffing and to Baileys: an `ftyp` box
 * (brand isom) and an `mdat` box of random bytes, so each video is distinct. Not playable, which
 * nothing here needs: without ffmpeg Baileys skips the video thumbnail and sends the bytes as they are.
 */
export const tinyMp4 = (payloadBytes = 2048): Buffer =>
  Buffer.concat([
    box(
      'ftyp',
      Buffer.concat([
        Buffer.from('isom', 'latin1'),
        Buffer.from([0, 0, 2, 0]),
        Buffer.from('isomiso2mp41', 'latin1'),
      ]),
    ),
    box('mdat', randomBytes(payloadBytes)),
  ])
