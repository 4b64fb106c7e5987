import jsQRModule from 'jsqr'
import { PNG } from 'pngjs'

// jsqr is CommonJS with an ES-style default export: under NodeNext the function sits on `.default`.
type Decode = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null
const jsQR: Decode =
  (jsQRModule as unknown as { default?: Decode }).default ?? (jsQRModule as unknown as Decode)

/**
 * Reads the text of a QR code from a PNG data URL, as the product's `qrCode` fields carry it. The
 * simulated phone needs the text (ref and keys) to link, and the product only shows the image.
 */
export function decodeQrDataUrl(dataUrl: string): string {
  const match = /^data:image\/png;base64,(.+)$/.exec(dataUrl)
  if (!match?.[1]) throw new Error('not a PNG data URL')
  let image: PNG
  try {
    image = PNG.sync.read(Buffer.from(match[1], 'base64'))
  } catch {
    throw new Error('not a PNG image')
  }
  const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)
  if (!code) throw new Error('no QR code found in the image')
  return code.data
}
