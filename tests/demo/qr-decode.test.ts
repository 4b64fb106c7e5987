import { createHash, randomBytes } from 'node:crypto'
import QRCode from 'qrcode'
import { describe, expect, it } from 'vitest'
import { renderQrDataUrl } from '../../connector/linking.js'
import { decodeQrDataUrl } from './qr-decode.js'

/** What Baileys puts in a linking QR: a ref and three base64 keys (random, so every run differs). */
const linkingQr = () =>
  [`2@${randomBytes(24).toString('base64')}`, ...[32, 32, 32].map((n) => randomBytes(n).toString('base64'))]
    .concat('1')
    .join(',')

/**
 * Arbitrary but fixed bytes: with random ones a rare pattern in a large symbol defeats the decoder's
 * finder search now and then (it failed CI once), which would make this test flaky, not better.
 */
const fixedBytes = (length: number, seed: string) => {
  const chunks: Buffer[] = []
  for (let i = 0; chunks.length * 32 < length; i++)
    chunks.push(createHash('sha256').update(`${seed}:${i}`).digest())
  return Buffer.concat(chunks).subarray(0, length)
}

describe('decodeQrDataUrl', () => {
  it('reads the linking QR exactly as the product renders it', async () => {
    for (let i = 0; i < 5; i++) {
      const qr = linkingQr()
      expect(decodeQrDataUrl(await renderQrDataUrl(qr))).toBe(qr)
    }
  })

  it('reads every segment kind, level, size and version the encoder picks', async () => {
    const cases: [string, QRCode.QRCodeErrorCorrectionLevel, number][] = [
      ['hi', 'L', 100],
      ['0123456789012345', 'M', 200],
      ['HELLO WORLD 123 $%*+-./:', 'Q', 250],
      ['mixed 12345678901234567890 TEXT AND text ünïcode', 'H', 300],
      [fixedBytes(300, 'base64 case').toString('base64'), 'M', 400],
      [fixedBytes(900, 'hex case').toString('hex'), 'L', 700],
    ]
    for (const [text, errorCorrectionLevel, width] of cases) {
      const dataUrl = await QRCode.toDataURL(text, { errorCorrectionLevel, width, margin: 3 })
      expect(decodeQrDataUrl(dataUrl)).toBe(text)
    }
  })

  it('refuses what is not a QR image', async () => {
    expect(() => decodeQrDataUrl('data:text/plain;base64,aGk=')).toThrow('not a PNG data URL')
    expect(() => decodeQrDataUrl(`data:image/png;base64,${Buffer.from('nope').toString('base64')}`)).toThrow(
      'not a PNG image',
    )
  })
})
