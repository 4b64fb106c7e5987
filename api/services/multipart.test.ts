import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AppError, Messages } from '../../shared/errors.js'
import { MAX_BUFFERED_BYTES, receiveMultipartFile } from './multipart.js'

const encoder = new TextEncoder()
const BOUNDARY = 'unit-boundary-42'
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`

const filePart = (field: string, bytes: string | Uint8Array, extraHeaders = '') => {
  const head = encoder.encode(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="f.bin"\r\n${extraHeaders}Content-Type: application/octet-stream\r\n\r\n`,
  )
  const body = typeof bytes === 'string' ? encoder.encode(bytes) : bytes
  return concat(head, body, encoder.encode('\r\n'))
}
const fieldPart = (field: string, value: string) =>
  encoder.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${value}\r\n`)
const closing = encoder.encode(`--${BOUNDARY}--\r\n`)

function concat(...parts: Uint8Array[]) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/** A body handed out in chunks of `chunkSize`, counting how much the parser pulled. */
const streamOf = (bytes: Uint8Array, chunkSize = 1024) => {
  let offset = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.slice(offset, offset + chunkSize))
      offset += chunkSize
    },
  })
  return { stream, pulled: () => Math.min(offset, bytes.byteLength) }
}

const collect = async (file: AsyncIterable<Uint8Array>) => {
  const chunks: Uint8Array[] = []
  for await (const chunk of file) chunks.push(chunk)
  return new TextDecoder().decode(concat(...chunks))
}

const receive = (
  body: ReadableStream<Uint8Array> | null,
  overrides: Partial<Parameters<typeof receiveMultipartFile<string>>[0]> = {},
) =>
  receiveMultipartFile<string>({
    body,
    contentType: CONTENT_TYPE,
    fieldName: 'video',
    maxFileBytes: 1024 * 1024,
    maxBodyBytes: 2 * 1024 * 1024,
    onFile: collect,
    ...overrides,
  })

const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AppError)
  return { status: (error as AppError).status, message: (error as AppError).message }
}

describe('receiveMultipartFile', () => {
  it('hands on the named file and drops fields and other files around it', async () => {
    const body = concat(
      fieldPart('note', 'hello'),
      filePart('image', 'not this one'),
      filePart('video', 'the video bytes'),
      filePart('video', 'a second file in the same field is ignored'),
      closing,
    )
    expect(await receive(streamOf(body, 7).stream)).toBe('the video bytes')
  })

  it('reads the same form however the network splits it', async () => {
    // Splits right after a boundary once made a valid form look malformed; every split must parse.
    const splitStream = (bytes: Uint8Array, cuts: number[]) => {
      const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
      const pieces: Uint8Array[] = []
      let last = 0
      for (const point of [...points, bytes.byteLength]) {
        if (point > last) pieces.push(bytes.slice(last, point))
        last = point
      }
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = pieces.shift()
          if (next) controller.enqueue(next)
          else controller.close()
        },
      })
    }
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (content, withField, cuts) => {
          const bytes = concat(
            ...(withField ? [fieldPart('note', 'x')] : []),
            filePart('video', `\r\n--${content}\r\n`),
            closing,
          )
          expect(await receive(splitStream(bytes, cuts))).toBe(`\r\n--${content}\r\n`)
          // Every single-byte split too, the worst case.
          expect(await receive(splitStream(bytes, [...bytes.keys()]))).toBe(`\r\n--${content}\r\n`)
        },
      ),
      { seed: 20240611, numRuns: 60 },
    )
  })

  it('answers null for a body that is not multipart or has no such part', async () => {
    expect(await receive(streamOf(closing).stream, { contentType: 'application/json' })).toBeNull()
    expect(await receive(null)).toBeNull()
    const body = concat(filePart('file', 'x'), closing)
    expect(await receive(streamOf(body).stream)).toBeNull()
  })

  it('refuses malformed and truncated bodies with 400', async () => {
    const truncated = filePart('video', 'cut short').slice(0, -4)
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(), Messages.multipartMalformed],
      [truncated, Messages.multipartMalformed],
      [concat(filePart('file', 'x')).slice(0, -3), Messages.multipartMalformed],
      [encoder.encode(`--${BOUNDARY}\r\nContent-Disp`), Messages.multipartMalformed],
      [
        encoder.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n`),
        Messages.multipartMalformed,
      ],
      [
        concat(
          filePart('video', 'x', 'Content-Disposition: form-data; name="v"; filename*=UTF-8\'\'%E0%A4%A\r\n'),
        ),
        Messages.multipartMalformed,
      ],
      [
        concat(...Array.from({ length: 40 }, (_, i) => fieldPart(`f${i}`, 'x')), closing),
        Messages.multipartTooManyParts,
      ],
    ]
    for (const [bytes, message] of cases) {
      expect(await failure(receive(streamOf(bytes).stream))).toEqual({ status: 400, message })
    }
    expect(await failure(receive(streamOf(closing).stream, { contentType: 'multipart/form-data' }))).toEqual({
      status: 400,
      message: Messages.multipartMalformed,
    })
  })

  it('fails the consumer too when the body breaks after the file started', async () => {
    let consumerSaw: unknown = null
    const body = concat(filePart('video', 'x'.repeat(10_000)).slice(0, 5_000))
    const result = receive(streamOf(body, 512).stream, {
      onFile: async (file) => {
        try {
          return await collect(file)
        } catch (error) {
          consumerSaw = error
          throw error
        }
      },
    })
    expect(await failure(result)).toEqual({ status: 400, message: Messages.multipartMalformed })
    expect(consumerSaw).toBeInstanceOf(AppError)
  })

  it('undoes a finished file when a later part is cut short', async () => {
    const discarded: string[] = []
    const body = concat(filePart('video', 'complete'), filePart('video', 'second').slice(0, -5))
    const result = receive(streamOf(body).stream, {
      discard: async (value) => {
        discarded.push(value)
      },
    })
    expect(await failure(result)).toEqual({ status: 400, message: Messages.multipartMalformed })
    expect(discarded).toEqual(['complete'])
  })

  it('stops at the size limits with 413, reading little past them', async () => {
    const big = concat(filePart('video', new Uint8Array(8 * 1024 * 1024)), closing)
    const file = streamOf(big, 64 * 1024)
    expect(await failure(receive(file.stream))).toEqual({ status: 413, message: Messages.fileTooLarge })
    expect(file.pulled()).toBeLessThan(1024 * 1024 + 256 * 1024)
    // Over the body limit under a field nobody reads: nothing is consumed, the limit still holds.
    const other = streamOf(concat(filePart('file', new Uint8Array(8 * 1024 * 1024)), closing), 64 * 1024)
    expect(await failure(receive(other.stream))).toEqual({ status: 413, message: Messages.fileTooLarge })
    // The limit plus the chunk that crossed it and the one the stream had queued.
    expect(other.pulled()).toBeLessThanOrEqual(2 * 1024 * 1024 + 2 * 64 * 1024)
  })

  it('reads no further than a small bound ahead of a slow consumer', async () => {
    const size = 4 * 1024 * 1024
    const body = streamOf(concat(filePart('video', new Uint8Array(size)), closing), 16 * 1024)
    let consumed = 0
    let maxAhead = 0
    const result = await receive(body.stream, {
      maxFileBytes: size,
      maxBodyBytes: size + 4096,
      onFile: async (file) => {
        for await (const chunk of file) {
          consumed += chunk.byteLength
          maxAhead = Math.max(maxAhead, body.pulled() - consumed)
          await new Promise((resolve) => setTimeout(resolve, 0))
        }
        return String(consumed)
      },
    })
    expect(result).toBe(String(size))
    // The queue bound plus one network chunk and the part header.
    expect(maxAhead).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + 2 * 16 * 1024)
  })

  it('ends the upload when the client goes away, waiting for the consumer to clean up', async () => {
    const abort = new AbortController()
    let cleanedUp = false
    // A body that sends the start of a file and then stalls, like a client that stopped sending.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(filePart('video', 'x'.repeat(4096)).slice(0, 2048))
      },
    })
    const result = receive(stream, {
      signal: abort.signal,
      onFile: async (file) => {
        try {
          return await collect(file)
        } finally {
          await new Promise((resolve) => setTimeout(resolve, 20))
          cleanedUp = true
        }
      },
    })
    setTimeout(() => abort.abort(), 20)
    expect(await failure(result)).toEqual({ status: 400, message: Messages.uploadInterrupted })
    expect(cleanedUp).toBe(true)
  })

  it('reports a failing body stream as an interrupted upload', async () => {
    let sent = false
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error('socket hang up'))
        sent = true
        controller.enqueue(filePart('video', 'x'.repeat(100)).slice(0, 150))
      },
    })
    expect(await failure(receive(stream))).toEqual({ status: 400, message: Messages.uploadInterrupted })
  })

  it("passes the consumer's own refusal through and stops reading", async () => {
    const body = streamOf(concat(filePart('video', new Uint8Array(1024 * 1024)), closing), 16 * 1024)
    const result = receive(body.stream, {
      onFile: async (file) => {
        for await (const _ of file) throw new AppError('unsupported_media_type', Messages.onlyMedia)
        return ''
      },
    })
    expect(await failure(result)).toEqual({ status: 415, message: Messages.onlyMedia })
    expect(body.pulled()).toBeLessThan(512 * 1024)
  })
})
