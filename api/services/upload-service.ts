import { maxUploadBytes } from '../../shared/config.js'
import type { UploadRecord } from '../../shared/db/types.js'
import { type AppError, appError } from '../../shared/errors.js'
import {
  extensionForDeclared,
  isSameMediaType,
  type MediaKind,
  newMediaName,
  SNIFF_BYTES,
  type SniffedMedia,
  sniffMedia,
} from '../../shared/media-types.js'
import { verifyUploadSignature } from '../../shared/storage/upload-signature.js'
import { iterateWebStream, peekHead, toWebStream } from './byte-streams.js'
import { errorSummary, type ServiceContext } from './context.js'
import { receiveMultipartFile } from './multipart.js'
import { iso } from './views.js'

/** Room for multipart boundaries, part headers and small fields around the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024

export interface UploadResult {
  filename: string
  size: number
  mimeType: string
  kind: MediaKind
}

export interface SignedUpload {
  expires: number
  type: string
  max: number
  sig: string
}

const tooLarge = () => appError('fileTooLarge')

type MediaVerdict = { ok: true; media: SniffedMedia } | { ok: false; error: AppError }

/**
 * Whether sniffed bytes may be stored as an upload of `kind`. With a `declaredType` (a signed link)
 * the format must also be the declared one, allowing only true aliases: the signed name already
 * carries the declared type's extension, so other bytes of the same kind (MP4 into a WebM link)
 * would be stored, and later sent, under a false name.
 */
const judgeMedia = (sniffed: SniffedMedia | null, kind: MediaKind, declaredType?: string): MediaVerdict => {
  if (!sniffed || sniffed.kind !== kind) {
    return { ok: false, error: appError('onlyMedia') }
  }
  if (declaredType !== undefined && !isSameMediaType(declaredType, sniffed.mime)) {
    return {
      ok: false,
      error: appError('uploadTypeMismatch', sniffed.mime, declaredType),
    }
  }
  return { ok: true, media: sniffed }
}

/**
 * Checks an upload whose bytes went straight to the store (a presigned PUT the API never saw), the
 * first time a status uses it: it must exist, fit MAX_UPLOAD_MB and the size it was signed for, and
 * its bytes must be the kind and format it was declared as, by the same rules as the API's own
 * signed PUT. A good file is marked verified (with its real type and size), so later sends skip
 * this; a bad one can never be used, so it is removed, object and record.
 *
 * Two sends racing on one upload read the same bytes and reach the same verdict; the removal is
 * conditional on the record still being unverified, so a send that found the file good (after a
 * re-PUT through the still valid link, say) keeps it, and one whose record vanished meanwhile
 * answers as if it had never been uploaded.
 */
export const verifyStoredUpload = async (ctx: ServiceContext, upload: UploadRecord): Promise<void> => {
  const { media, repos } = ctx
  const { filename } = upload
  const size = await media.size(filename)
  if (size === null) throw appError('fileNotFound')
  let verdict: MediaVerdict
  // The record holds the size the link was signed for: exact with S3, a maximum elsewhere.
  if (size > Math.min(upload.size, maxUploadBytes(ctx.config))) verdict = { ok: false, error: tooLarge() }
  else {
    const head = await media.readHead(filename, SNIFF_BYTES)
    if (head === null) throw appError('fileNotFound')
    verdict = judgeMedia(await sniffMedia(head), upload.kind, upload.mime)
  }
  if (!verdict.ok) {
    if (await repos.uploads.deleteUnverified(filename)) {
      await media.delete(filename).catch((error: unknown) => {
        // The record is gone, so the orphan sweep will not find this object again: say so.
        ctx.logger.warn({ filename, error: errorSummary(error) }, 'removing a refused upload failed')
      })
    }
    throw verdict.error
  }
  if (!(await repos.uploads.markVerified(filename, { mime: verdict.media.mime, size }))) {
    throw appError('fileNotFound')
  }
}

const declaredLength = (request: Request): number | null => {
  const header = request.headers.get('content-length')
  if (header === null || !/^\d+$/.test(header.trim())) return null
  return Number(header)
}

/**
 * Media uploads: streamed multipart forms, and signed links for a single direct PUT. Either way the
 * size limit holds while bytes arrive and the type comes from the bytes, not the client's claim.
 */
export class UploadService {
  /** Names whose signed PUT is running in this process, so two PUTs of one link cannot race. */
  private readonly inFlight = new Set<string>()

  constructor(
    private readonly ctx: ServiceContext,
    private readonly linkSecret: string,
  ) {}

  private get maxBytes() {
    return maxUploadBytes(this.ctx.config)
  }

  async receiveForm(kind: MediaKind, request: Request): Promise<UploadResult> {
    const maxBytes = this.maxBytes
    const maxBodyBytes = maxBytes + MULTIPART_OVERHEAD_BYTES
    // Refuse a declared oversize body before reading any of it.
    const length = declaredLength(request)
    if (length !== null && length > maxBodyBytes) throw tooLarge()
    const result = await receiveMultipartFile({
      body: request.body,
      contentType: request.headers.get('content-type') ?? undefined,
      fieldName: kind,
      maxFileBytes: maxBytes,
      maxBodyBytes,
      signal: request.signal,
      onFile: (file) => this.store(kind, file, maxBytes),
      discard: (stored) => this.ctx.media.delete(stored.filename),
    })
    if (!result) throw appError('noFile')
    await this.record(result)
    return result
  }

  /**
   * Signs a link for one direct PUT. The upload is recorded now with what the client declared,
   * unverified, so stores that take the PUT themselves (S3) need no callback: the first send that
   * uses it checks the bytes (`verifyStoredUpload`). The local PUT route checks them as they arrive
   * and replaces the record with what actually came. A status can use it only once the file exists.
   */
  /** `origin`: where the client reached the API, for links that point back at it. */
  async createLink(input: { type: MediaKind; contentType: string; size: number }, origin?: string) {
    if (input.size > this.maxBytes) throw tooLarge()
    const contentType = input.contentType.split(';')[0]?.trim().toLowerCase() ?? ''
    const ext = extensionForDeclared(input.type, contentType)
    if (!ext) throw appError('onlyMedia')
    const now = this.ctx.clock()
    const filename = newMediaName(now, ext)
    const link = await this.ctx.media.createUploadUrl(filename, {
      contentType,
      maxBytes: input.size,
      expiresInSeconds: this.ctx.config.UPLOAD_URL_TTL_SECONDS,
      ...(origin ? { origin } : {}),
    })
    await this.ctx.repos.uploads.insert({
      filename,
      kind: input.type,
      mime: contentType,
      size: input.size,
      createdAt: now,
      verified: false,
    })
    return {
      filename,
      uploadUrl: link.url,
      method: link.method,
      headers: link.headers,
      expiresAt: iso(link.expiresAt),
    }
  }

  /** The PUT behind a link from `createLink` (local store): checks the signature, then streams the body in. */
  async receiveSigned(filename: string, link: SignedUpload, request: Request): Promise<UploadResult> {
    const check = await verifyUploadSignature(
      { name: filename, expires: link.expires, type: link.type, max: link.max },
      link.sig,
      this.linkSecret,
      this.ctx.clock(),
    )
    if (check === 'invalid') throw appError('uploadLinkInvalid')
    if (check === 'expired') throw appError('uploadLinkExpired')
    const kind: MediaKind | null = extensionForDeclared('image', link.type)
      ? 'image'
      : extensionForDeclared('video', link.type)
        ? 'video'
        : null
    if (!kind) throw appError('onlyMedia')
    const sentType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (sentType && sentType !== link.type) throw appError('uploadContentType', link.type)
    const maxBytes = Math.min(link.max, this.maxBytes)
    const length = declaredLength(request)
    if (length !== null && length > maxBytes) throw tooLarge()
    if (this.inFlight.has(filename) || (await this.ctx.media.exists(filename))) {
      throw appError('uploadLinkUsed')
    }
    this.inFlight.add(filename)
    try {
      if (!request.body) throw appError('noFile')
      const result = await this.store(kind, iterateWebStream(request.body), maxBytes, {
        name: filename,
        declaredType: link.type,
      })
      await this.record(result)
      return result
    } finally {
      this.inFlight.delete(filename)
    }
  }

  /**
   * Sniffs the head, then streams everything into the media store under a generated name, or under
   * the signed name when the bytes are the type the link was signed for.
   */
  private async store(
    kind: MediaKind,
    body: AsyncIterable<Uint8Array>,
    maxBytes: number,
    signed?: { name: string; declaredType: string },
  ) {
    const peeked = await peekHead(body, SNIFF_BYTES)
    if (peeked.head.byteLength === 0) {
      await peeked.cancel()
      throw appError('noFile')
    }
    const verdict = judgeMedia(await sniffMedia(peeked.head), kind, signed?.declaredType)
    if (!verdict.ok) {
      await peeked.cancel()
      throw verdict.error
    }
    const sniffed = verdict.media
    const filename = signed?.name ?? newMediaName(this.ctx.clock(), sniffed.ext)
    const { size } = await this.ctx.media.put(filename, peeked.body, { maxBytes, contentType: sniffed.mime })
    return { filename, size, mimeType: sniffed.mime, kind: sniffed.kind }
  }

  /**
   * A stored upload, to show it (the dashboard's thumbnails). The type comes from its bytes, as
   * on the way in: bytes that went straight to S3 and are not media are never served as such.
   */
  async open(filename: string): Promise<{ body: ReadableStream<Uint8Array>; mime: string; size: number }> {
    const { repos, media } = this.ctx
    const record = await repos.uploads.get(filename)
    const head = record ? await media.readHead(filename, SNIFF_BYTES) : null
    const sniffed = head ? await sniffMedia(head) : null
    const size = sniffed ? await media.size(filename) : null
    const source = size !== null ? await media.openStream(filename) : null
    if (!sniffed || size === null || !source) throw appError('mediaNotFound')
    return { body: toWebStream(source), mime: sniffed.mime, size }
  }

  /** Records (or re-records) a stored upload; a failed write removes the file so nothing is orphaned. */
  private async record(result: UploadResult) {
    const { repos, media } = this.ctx
    try {
      const existing = await repos.uploads.get(result.filename)
      if (existing) await repos.uploads.delete(result.filename)
      await repos.uploads.insert({
        filename: result.filename,
        kind: result.kind,
        mime: result.mimeType,
        size: result.size,
        createdAt: existing?.createdAt ?? this.ctx.clock(),
      })
    } catch (error) {
      await media.delete(result.filename).catch(() => false)
      throw error
    }
  }
}
