import { Readable, Transform } from 'node:stream'
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web'
import busboy from 'busboy'
import { AppError, Messages } from '../../shared/errors.js'

export interface MultipartFileOptions<T> {
  body: ReadableStream<Uint8Array> | null
  contentType: string | undefined
  /** The form field that carries the file; other files are skipped. */
  fieldName: string
  maxFileBytes: number
  /** Cap on the whole request body, file and other parts together. */
  maxBodyBytes: number
  /** Consumes the file as it streams in; its result is what the call resolves to. */
  onFile: (file: AsyncIterable<Uint8Array>) => Promise<T>
}

/**
 * Streams one file out of a multipart body without buffering it: busboy parses as bytes arrive
 * and pauses the request when `onFile` is slower than the network. Resolves null when the body is
 * not multipart or has no such file. A body over `maxBodyBytes` fails with 413 as soon as the
 * limit is crossed; a file over `maxFileBytes` is cut one byte past the limit so the consumer's own
 * count (MediaStore.put) sees it is too large.
 */
export const receiveMultipartFile = <T>(options: MultipartFileOptions<T>): Promise<T | null> =>
  new Promise<T | null>((resolve, reject) => {
    const { body, contentType } = options
    if (!body || !contentType || !/^multipart\/form-data\b/i.test(contentType)) return resolve(null)
    let parser: busboy.Busboy
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: {
          fileSize: options.maxFileBytes + 1,
          files: 4,
          fields: 20,
          fieldSize: 8 * 1024,
          parts: 30,
          headerPairs: 50,
        },
      })
    } catch {
      return resolve(null) // e.g. multipart without a boundary
    }

    const source = Readable.fromWeb(body as NodeWebReadableStream<Uint8Array>)
    let received = 0
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length
        if (received > options.maxBodyBytes)
          callback(new AppError('payload_too_large', Messages.fileTooLarge))
        else callback(null, chunk)
      },
    })

    let settled = false
    let consuming: Promise<T> | null = null
    let activeFile: Readable | null = null
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      // Stop reading the request: nothing more of it will be used.
      source.unpipe()
      source.destroy()
      counter.destroy()
      parser.destroy()
      // Fail the file stream too, so the consumer stops and cleans up (a half-written temp file)
      // before the client hears back.
      activeFile?.destroy(error instanceof Error ? error : new Error('upload failed'))
      void Promise.allSettled([consuming]).then(() => reject(error))
    }
    const succeed = (value: T | null) => {
      if (settled) return
      settled = true
      resolve(value)
    }

    parser.on('file', (name, stream) => {
      if (name !== options.fieldName || consuming) {
        stream.resume() // drain parts we do not use
        return
      }
      activeFile = stream
      consuming = options.onFile(stream)
      consuming.catch(fail)
    })
    parser.on('close', () => {
      if (consuming) consuming.then(succeed, fail)
      else succeed(null)
    })
    parser.on('error', () => fail(new AppError('bad_request', 'Malformed multipart body')))
    counter.on('error', fail)
    source.on('error', () => fail(new AppError('bad_request', 'Upload was interrupted')))
    source.pipe(counter).pipe(parser)
  })
