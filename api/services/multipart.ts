import { type MultipartError, make } from 'multipasta'
import { type AppError, appError } from '../../shared/errors.js'

export interface MultipartFileOptions<T> {
  body: ReadableStream<Uint8Array> | null
  contentType: string | undefined
  /** The form field that carries the file; every other part is read past and dropped. */
  fieldName: string
  maxFileBytes: number
  /** Cap on the whole request body, file and other parts together. */
  maxBodyBytes: number
  /** The request's signal: reading stops when the client goes away. */
  signal?: AbortSignal | undefined
  /** Consumes the file as it streams in; its result is what the call resolves to. */
  onFile: (file: AsyncIterable<Uint8Array>) => Promise<T>
  /**
   * Undoes a finished `onFile` when the rest of the body then turns out broken (a truncated part
   * after the file), so a refused request leaves nothing stored.
   */
  discard?: ((result: T) => Promise<unknown>) | undefined
}

/**
 * How far reading may run ahead of the consumer. Past this the request is not read until the
 * consumer catches up, so a slow disk means a slow upload, never a file held in memory.
 */
export const MAX_BUFFERED_BYTES = 256 * 1024

/** A form with a file and a few small fields never needs more; a flood of parts is refused. */
const MAX_PARTS = 30

const tooLarge = () => appError('fileTooLarge')
const malformed = () => appError('multipartMalformed')
const interrupted = () => appError('uploadInterrupted')

const fromParserError = (error: MultipartError): AppError => {
  if (error._tag === 'ReachedLimit') {
    return error.limit === 'MaxParts' ? appError('multipartTooManyParts') : tooLarge()
  }
  return malformed()
}

const ignoreChunk = (_chunk: Uint8Array | null) => {}

const CR = 0x0d

/** The boundary's length in bytes, or the whole header's when it cannot be read here. */
const boundaryLength = (contentType: string) => {
  const match = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentType)
  const boundary = match ? (match[1]?.replace(/\\(.)/g, '$1') ?? match[2] ?? '') : contentType
  return new TextEncoder().encode(boundary).byteLength
}

/**
 * Feeds the parser so that every boundary it sees arrives together with the two bytes after it.
 * multipasta tells the closing `--boundary--` from a next part by looking at those two bytes
 * within one callback; a chunk that ends one byte after a boundary (a client can send exactly
 * that) would make a valid form look malformed. So the tail of each chunk from its last CR on
 * (every boundary starts with CRLF) is held back and sent in front of the next chunk, and nothing
 * is sent before the first boundary is complete.
 */
const alignedWriter = (write: (chunk: Uint8Array) => void, contentType: string) => {
  // "\r\n--" + boundary + the two bytes that follow it.
  const window = boundaryLength(contentType) + 6
  let held: Uint8Array | null = null
  let started = false
  return {
    write(chunk: Uint8Array) {
      let data = chunk
      if (held) {
        data = new Uint8Array(held.byteLength + chunk.byteLength)
        data.set(held)
        data.set(chunk, held.byteLength)
        held = null
      }
      if (!started && data.byteLength < window) {
        held = data
        return
      }
      started = true
      const tail = data.subarray(Math.max(0, data.byteLength - window)).lastIndexOf(CR)
      const cut = tail === -1 ? data.byteLength : Math.max(0, data.byteLength - window) + tail
      if (cut < data.byteLength) held = data.slice(cut)
      if (cut > 0) write(data.subarray(0, cut))
    },
    /** Whatever is still held, at the end of the body. */
    flush() {
      if (held) write(held)
      held = null
    },
  }
}

/**
 * The file on its way from the parser to the consumer: a small queue the parser pushes into and
 * the consumer pulls from. `ready()` is what holds reading back while the queue is full.
 */
class FilePipe {
  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0
  private ended = false
  private failure: { error: unknown } | null = null
  /** The consumer stopped taking chunks (done, gave up or failed): pushes are dropped. */
  private released = false
  private wakeConsumer: (() => void) | null = null
  private wakeProducer: (() => void) | null = null

  push(chunk: Uint8Array) {
    if (this.released || this.ended || this.failure) return
    this.queue.push(chunk)
    this.queuedBytes += chunk.byteLength
    this.notifyConsumer()
  }

  end() {
    this.ended = true
    this.notifyConsumer()
  }

  fail(error: unknown) {
    if (this.released) return
    this.failure ??= { error }
    this.notifyConsumer()
    this.notifyProducer()
  }

  release() {
    this.released = true
    this.queue.length = 0
    this.queuedBytes = 0
    this.notifyProducer()
  }

  /** Resolves once the consumer is no more than MAX_BUFFERED_BYTES behind (or has stopped). */
  async ready(): Promise<void> {
    while (this.queuedBytes > MAX_BUFFERED_BYTES && !this.released && !this.failure) {
      await new Promise<void>((resolve) => {
        this.wakeProducer = resolve
      })
    }
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    try {
      while (true) {
        // A failure wins over queued bytes: the consumer should stop and clean up at once.
        if (this.failure) throw this.failure.error
        const chunk = this.queue.shift()
        if (chunk) {
          this.queuedBytes -= chunk.byteLength
          this.notifyProducer()
          yield chunk
          continue
        }
        if (this.ended) return
        await new Promise<void>((resolve) => {
          this.wakeConsumer = resolve
        })
      }
    } finally {
      this.release()
    }
  }

  private notifyConsumer() {
    const wake = this.wakeConsumer
    this.wakeConsumer = null
    wake?.()
  }

  private notifyProducer() {
    const wake = this.wakeProducer
    this.wakeProducer = null
    wake?.()
  }
}

/**
 * Streams one file out of a multipart body without buffering it. The body is read chunk by chunk
 * (Web Streams only, so this runs on Workers as on Node) and fed to multipasta's push parser, whose
 * errors are plain values: nothing here can raise an unhandled 'error' event, whatever the client
 * sends. Reading waits whenever the consumer falls behind by more than MAX_BUFFERED_BYTES.
 *
 * Resolves null when the body is not multipart or holds no part named `fieldName`. A body over
 * `maxBodyBytes` or a file over `maxFileBytes` fails with 413 as soon as the limit is crossed; a
 * malformed or truncated body with 400, as does a client that goes away mid-upload. On any failure
 * the consumer's stream fails too and is awaited, so its cleanup (a half-written temp file) is done
 * before the caller answers; a consumer that had already finished is undone with `discard`.
 */
export const receiveMultipartFile = async <T>(options: MultipartFileOptions<T>): Promise<T | null> => {
  const { body, contentType } = options
  if (!body || !contentType || !/^multipart\/form-data\b/i.test(contentType)) return null

  // Mutable state the parser callbacks share; an object so TypeScript does not narrow it away.
  const state: {
    failure: { error: unknown } | null
    finished: boolean
    pipe: FilePipe | null
    consuming: Promise<T> | null
  } = { failure: null, finished: false, pipe: null, consuming: null }
  let interrupt = () => {}
  const interruption = new Promise<null>((resolve) => {
    interrupt = () => resolve(null)
  })
  const fail = (error: unknown) => {
    state.failure ??= { error }
    state.pipe?.fail(state.failure.error)
    interrupt()
  }

  const parser = make({
    headers: { 'content-type': contentType },
    // Every part goes through the streaming path, none is collected in memory as a field: the
    // expected file is handed on, everything else is dropped as it arrives.
    isFile: () => true,
    maxParts: MAX_PARTS,
    onField: () => {},
    onFile: (info) => {
      if (state.failure || state.finished || state.pipe || info.name !== options.fieldName) return ignoreChunk
      const pipe = new FilePipe()
      state.pipe = pipe
      const consuming = Promise.resolve().then(() => options.onFile(pipe.chunks()))
      state.consuming = consuming
      consuming.then(() => pipe.release(), fail)
      let size = 0
      return (chunk) => {
        if (chunk === null) return pipe.end()
        size += chunk.byteLength
        if (size > options.maxFileBytes) return fail(tooLarge())
        pipe.push(chunk)
      }
    },
    onError: (error) => {
      // Bytes after the closing boundary are not part of the form.
      if (!state.finished) fail(fromParserError(error))
    },
    onDone: () => {
      state.finished = true
    },
  })

  const aligned = alignedWriter((chunk) => parser.write(chunk), contentType)
  // The parser decodes `filename*` with decodeURIComponent, which throws on a bad escape.
  const write = (chunk: Uint8Array | null) => {
    try {
      if (chunk) aligned.write(chunk)
      else {
        aligned.flush()
        parser.end()
      }
    } catch {
      fail(malformed())
    }
  }

  const reader = body.getReader()
  let streamEnded = false
  const onAbort = () => fail(interrupted())
  if (options.signal?.aborted) onAbort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    let received = 0
    while (!state.failure && !state.finished) {
      if (state.pipe) await Promise.race([state.pipe.ready(), interruption])
      if (state.failure) break
      const next = await Promise.race([reader.read(), interruption])
      if (!next) break
      if (next.done) {
        streamEnded = true
        write(null)
        // Without the closing boundary the form is cut short, even when it ended between parts.
        if (!state.finished) fail(malformed())
        break
      }
      received += next.value.byteLength
      if (received > options.maxBodyBytes) {
        fail(tooLarge())
        break
      }
      write(next.value)
    }
  } catch {
    // The body stream itself failed: the client disconnected or sent a broken chunked encoding.
    fail(interrupted())
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    // Nothing more of the request is used; a pending read ends with the cancel.
    if (!streamEnded) reader.cancel().catch(() => {})
  }

  if (state.failure) {
    if (state.consuming) {
      const [outcome] = await Promise.allSettled([state.consuming])
      if (outcome?.status === 'fulfilled') await options.discard?.(outcome.value).catch(() => {})
    }
    throw state.failure.error
  }
  return state.consuming ? await state.consuming : null
}
