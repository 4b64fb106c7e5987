/**
 * WhatsApp Web socket framing, server side.
 *
 * The client's first WebSocket message starts with an intro: either the plain noise header
 * `WA 06 03` (dictionary version 3), or — when the client has stored `creds.routingInfo` from an
 * earlier `edge_routing` node — `ED 00 01` + 3-byte big-endian length + routing info, followed by
 * the same `WA 06 03` header. After the intro every frame (in both directions) is a 3-byte
 * big-endian length followed by that many payload bytes. Frames can be split across or packed
 * into WebSocket messages, so the reader buffers.
 */

export const NOISE_WA_HEADER = Buffer.from([0x57, 0x41, 6, 3])
const ROUTING_PREFIX = Buffer.from([0x45, 0x44, 0, 1]) // 'E' 'D' 0x00 0x01
const MAX_FRAME = 0xffffff

export class FramingError extends Error {}

export interface FrameIntro {
  /** the 4-byte noise header the client sent; it is mixed into the handshake hash */
  header: Buffer
  /** routing info from the `ED` prefix, when present */
  routingInfo?: Buffer
}

export class FrameReader {
  private pending: Buffer = Buffer.alloc(0)
  private introDone = false
  intro?: FrameIntro

  /** Adds received bytes and returns every complete frame payload now available. */
  push(data: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : Buffer.from(data)
    if (!this.introDone && !this.readIntro()) return []
    const frames: Buffer[] = []
    while (this.pending.length >= 3) {
      const size = this.pending.readUIntBE(0, 3)
      if (this.pending.length < size + 3) break
      frames.push(this.pending.subarray(3, size + 3))
      this.pending = this.pending.subarray(size + 3)
    }
    return frames
  }

  private readIntro(): boolean {
    let offset = 0
    let routingInfo: Buffer | undefined
    if (
      this.pending.length >= 2 &&
      this.pending[0] === ROUTING_PREFIX[0] &&
      this.pending[1] === ROUTING_PREFIX[1]
    ) {
      if (this.pending.length < 7) return false
      if (!this.pending.subarray(0, 4).equals(ROUTING_PREFIX)) throw new FramingError('bad routing prefix')
      const length = this.pending.readUIntBE(4, 3)
      if (this.pending.length < 7 + length) return false
      routingInfo = Buffer.from(this.pending.subarray(7, 7 + length))
      offset = 7 + length
    }
    if (this.pending.length < offset + NOISE_WA_HEADER.length) return false
    const header = Buffer.from(this.pending.subarray(offset, offset + NOISE_WA_HEADER.length))
    if (!header.equals(NOISE_WA_HEADER)) throw new FramingError('bad noise header')
    this.intro = { header, routingInfo }
    this.pending = this.pending.subarray(offset + NOISE_WA_HEADER.length)
    this.introDone = true
    return true
  }
}

/** Prefixes a payload with its 3-byte big-endian length. */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME) throw new FramingError('frame too large')
  const frame = Buffer.alloc(3 + payload.length)
  frame.writeUIntBE(payload.length, 0, 3)
  frame.set(payload, 3)
  return frame
}
