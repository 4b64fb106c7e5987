import { describe, expect, it } from 'vitest'
import { encodeFrame, FrameReader, FramingError, NOISE_WA_HEADER } from './framing.js'

describe('FrameReader', () => {
  it('reads the plain WA header, then frames split across and packed into messages', () => {
    const reader = new FrameReader()
    const wire = Buffer.concat([
      NOISE_WA_HEADER,
      encodeFrame(Buffer.from('one')),
      encodeFrame(Buffer.from('two')),
    ])
    expect(reader.push(wire.subarray(0, 5))).toEqual([])
    expect(reader.push(wire.subarray(5, 12)).map(String)).toEqual(['one'])
    expect(reader.push(wire.subarray(12)).map(String)).toEqual(['two'])
    expect(reader.intro).toEqual({ header: NOISE_WA_HEADER, routingInfo: undefined })
  })

  it('reads the ED routing-info prefix before the header', () => {
    const routing = Buffer.from([1, 2, 3, 4, 5])
    const prefix = Buffer.from([0x45, 0x44, 0, 1, 0, 0, routing.length])
    const reader = new FrameReader()
    const frames = reader.push(
      Buffer.concat([prefix, routing, NOISE_WA_HEADER, encodeFrame(Buffer.from('hi'))]),
    )
    expect(frames.map(String)).toEqual(['hi'])
    expect(reader.intro?.routingInfo).toEqual(routing)
  })

  it('rejects a stream that does not start with a WhatsApp header', () => {
    expect(() => new FrameReader().push(Buffer.from('GET / HTTP/1.1'))).toThrow(FramingError)
  })
})
