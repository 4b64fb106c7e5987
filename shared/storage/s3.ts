import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import type { Config } from '../config.js'
import { AppError, appError } from '../errors.js'
import { type MediaStore, SAFE_MEDIA_NAME, type UploadUrlOptions } from './types.js'

export interface S3MediaStoreOptions {
  endpoint?: string | undefined
  /** The endpoint clients reach the store at, put in presigned links (default: `endpoint`). */
  publicEndpoint?: string | undefined
  region: string
  bucket: string
  accessKeyId: string
  secretAccessKey: string
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and most self-hosted stores need. */
  forcePathStyle: boolean
  /** Prepended to every object key, e.g. `media/`. */
  prefix?: string
}

/** S3 settings from the config as the store takes them; only called when `usesS3(config)`. */
export const s3StoreOptions = (config: Config): S3MediaStoreOptions => ({
  endpoint: config.S3_ENDPOINT,
  publicEndpoint: config.S3_PUBLIC_ENDPOINT,
  region: config.S3_REGION,
  bucket: config.S3_BUCKET ?? '',
  accessKeyId: config.S3_ACCESS_KEY_ID ?? '',
  secretAccessKey: config.S3_SECRET_ACCESS_KEY ?? '',
  forcePathStyle: config.S3_FORCE_PATH_STYLE,
})

/** S3 parts are at least 5 MiB; one part in flight keeps an upload's memory near that. */
const PART_BYTES = 5 * 1024 * 1024

const isNotFound = (error: unknown) =>
  error instanceof S3ServiceException &&
  (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata?.httpStatusCode === 404)

/**
 * Media in S3-compatible storage (AWS S3, MinIO, R2, …). Uploads stream through in parts, so a
 * file is never held whole in memory; upload links are presigned PUTs whose signature covers the
 * declared content type and exact size, so the store itself refuses anything else.
 */
export class S3MediaStore implements MediaStore {
  /** Presigned PUTs go straight to the store; the bytes are checked on first use. */
  readonly linkTarget = 'store' as const
  private readonly client: S3Client
  /** Signs upload links with the address clients use, which may differ from the one servers use. */
  private readonly signer: S3Client
  private readonly bucket: string
  private readonly prefix: string

  constructor(options: S3MediaStoreOptions) {
    this.bucket = options.bucket
    this.prefix = options.prefix ?? ''
    const clientFor = (endpoint: string | undefined) =>
      new S3Client({
        region: options.region,
        ...(endpoint ? { endpoint } : {}),
        forcePathStyle: options.forcePathStyle,
        credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
        // Without these the SDK frames streamed bodies as aws-chunked with trailing checksums, which
        // S3-compatible servers store verbatim or refuse, and presigned PUTs carry a CRC of an empty body.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      })
    this.client = clientFor(options.endpoint)
    this.signer =
      options.publicEndpoint && options.publicEndpoint !== options.endpoint
        ? clientFor(options.publicEndpoint)
        : this.client
  }

  async put(
    name: string,
    body: AsyncIterable<Uint8Array>,
    options: { maxBytes: number; contentType: string },
  ): Promise<{ size: number }> {
    const key = this.keyOf(name)
    let size = 0
    let tooLarge = false
    const iterator = body[Symbol.asyncIterator]()
    // Counted as the SDK pulls, so an oversized body fails the upload before more of it is read.
    const source = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await iterator.next()
        if (next.done) return controller.close()
        size += next.value.byteLength
        if (size > options.maxBytes) {
          tooLarge = true
          controller.error(appError('fileTooLarge'))
          await iterator.return?.()
          return
        }
        controller.enqueue(next.value)
      },
      async cancel() {
        await iterator.return?.()
      },
    })
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: source, ContentType: options.contentType },
      partSize: PART_BYTES,
      queueSize: 1,
      // A failed upload aborts its multipart upload, so no parts are left to pay for.
      leavePartsOnError: false,
    })
    try {
      await upload.done()
    } catch (error) {
      if (tooLarge) throw appError('fileTooLarge')
      if (error instanceof AppError) throw error
      throw storageError(error)
    }
    return { size }
  }

  async read(name: string): Promise<Uint8Array | null> {
    if (!SAFE_MEDIA_NAME.test(name)) return null
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(name) }),
      )
      return object.Body ? await object.Body.transformToByteArray() : new Uint8Array()
    } catch (error) {
      if (isNotFound(error)) return null
      throw storageError(error)
    }
  }

  /** The object as a stream of bytes, for senders that should not hold it whole. */
  async openStream(name: string): Promise<AsyncIterable<Uint8Array> | null> {
    if (!SAFE_MEDIA_NAME.test(name)) return null
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(name) }),
      )
      if (!object.Body) return (async function* () {})()
      return object.Body.transformToWebStream() as unknown as AsyncIterable<Uint8Array>
    } catch (error) {
      if (isNotFound(error)) return null
      throw storageError(error)
    }
  }

  /** The first `bytes` bytes (a ranged GET), for sniffing a file that was PUT straight to the store. */
  async readHead(name: string, bytes: number): Promise<Uint8Array | null> {
    if (!SAFE_MEDIA_NAME.test(name)) return null
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(name), Range: `bytes=0-${bytes - 1}` }),
      )
      return object.Body ? await object.Body.transformToByteArray() : new Uint8Array()
    } catch (error) {
      if (isNotFound(error)) return null
      throw storageError(error)
    }
  }

  async exists(name: string): Promise<boolean> {
    return (await this.size(name)) !== null
  }

  /** Stored size in bytes, or null when there is no such object. */
  async size(name: string): Promise<number | null> {
    if (!SAFE_MEDIA_NAME.test(name)) return null
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(name) }),
      )
      return head.ContentLength ?? 0
    } catch (error) {
      if (isNotFound(error)) return null
      throw storageError(error)
    }
  }

  async delete(name: string): Promise<boolean> {
    if (!SAFE_MEDIA_NAME.test(name)) return false
    // S3 answers a delete of a missing key with success too; the HEAD tells whether there was one.
    const existed = await this.exists(name)
    if (!existed) return false
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(name) }))
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw storageError(error)
    }
  }

  async createUploadUrl(
    name: string,
    options: UploadUrlOptions,
  ): Promise<{ url: string; method: 'PUT'; headers: Record<string, string>; expiresAt: number }> {
    const expiresIn = Math.max(1, Math.floor(options.expiresInSeconds))
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.keyOf(name),
      ContentType: options.contentType,
      ContentLength: Math.floor(options.maxBytes),
    })
    const url = await getSignedUrl(this.signer, command, {
      expiresIn,
      // Signed, so the store refuses a PUT of another type or size than the one declared.
      signableHeaders: new Set(['content-type', 'content-length']),
    })
    return {
      url,
      method: 'PUT',
      headers: { 'Content-Type': options.contentType },
      expiresAt: Date.now() + expiresIn * 1000,
    }
  }

  /** Cheap reachability check for health: a HEAD of the bucket's access, not of any object. */
  async ping(): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}.health` }))
      return true
    } catch (error) {
      return isNotFound(error)
    }
  }

  close(): void {
    this.client.destroy()
    if (this.signer !== this.client) this.signer.destroy()
  }

  private keyOf(name: string): string {
    if (!SAFE_MEDIA_NAME.test(name)) throw appError('invalidMediaName')
    return `${this.prefix}${name}`
  }
}

/** Storage failures are the server's problem, not the client's; no SDK detail reaches a response. */
const storageError = (error: unknown): AppError => {
  if (error instanceof AppError) return error
  return appError('storageUnavailable')
}
