import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { appError } from '../errors.js'
import { type MediaStore, SAFE_MEDIA_NAME, type UploadUrlOptions } from '../storage/types.js'
import { signUploadLink } from '../storage/upload-signature.js'

export { type UploadLinkTerms, verifyUploadSignature } from '../storage/upload-signature.js'

export interface LocalMediaStoreOptions {
  /** Folder the media lives in; created on first write. */
  dir: string
  /**
   * Base URL clients reach the API at (PUBLIC_URL); signed upload links point at
   * `${publicUrl}/api/uploads/…`. Without it a link points at the origin the request for it came to
   * (a page at http://127.0.0.1:3000 gets a link there, not to localhost, which would be another
   * origin to the browser), and `fallbackUrl` serves callers that name no origin.
   */
  publicUrl?: string
  /** Known only once the server listens (port 0). */
  fallbackUrl?: () => string
  /** HMAC secret for upload links; the API's PUT route must verify with the same one. */
  secret: string
  clock?: () => number
}

const isMissing = (error: unknown) =>
  error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR')

/**
 * Embedded-mode media store: one file per upload in a local folder. Writes go to a hidden temp
 * file that is renamed into place only when complete, so a reader never sees half a file and an
 * aborted upload leaves nothing behind.
 */
export class LocalMediaStore implements MediaStore {
  /** Upload links point at the API's own PUT route, which checks the bytes as they arrive. */
  readonly linkTarget = 'api' as const
  private readonly dir: string
  private readonly clock: () => number

  constructor(private readonly options: LocalMediaStoreOptions) {
    this.dir = options.dir
    this.clock = options.clock ?? Date.now
  }

  private baseUrl(requestOrigin: string | undefined): string {
    const base = this.options.publicUrl ?? requestOrigin ?? this.options.fallbackUrl?.()
    if (!base)
      throw new Error('LocalMediaStore: no public URL, request origin or fallback URL for upload links')
    return base.replace(/\/+$/, '')
  }

  async put(
    name: string,
    body: AsyncIterable<Uint8Array>,
    options: { maxBytes: number; contentType: string },
  ): Promise<{ size: number }> {
    const target = this.pathOf(name)
    // Owner-only whatever the process umask: uploads are users' media, and the rename below keeps
    // the temp file's mode for the stored file.
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const temp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.part`)
    const handle = await open(temp, 'wx', 0o600)
    let size = 0
    let closed = false
    try {
      for await (const chunk of body) {
        size += chunk.byteLength
        // Checked before writing, so an oversized body never lands on disk beyond the limit.
        if (size > options.maxBytes) throw appError('fileTooLarge')
        await handle.write(chunk)
      }
      await handle.close()
      closed = true
      await rename(temp, target)
      return { size }
    } catch (error) {
      if (!closed) await handle.close().catch(() => {})
      await rm(temp, { force: true })
      throw error
    }
  }

  async read(name: string): Promise<Uint8Array | null> {
    if (!SAFE_MEDIA_NAME.test(name)) return null
    try {
      return new Uint8Array(await readFile(join(this.dir, name)))
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    }
  }

  async openStream(name: string): Promise<AsyncIterable<Uint8Array> | null> {
    if (!(await this.exists(name))) return null
    return createReadStream(join(this.dir, name))
  }

  async readHead(name: string, bytes: number): Promise<Uint8Array | null> {
    if (!SAFE_MEDIA_NAME.test(name)) return null
    let handle: Awaited<ReturnType<typeof open>> | null = null
    try {
      handle = await open(join(this.dir, name), 'r')
      const buffer = new Uint8Array(bytes)
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0)
      return buffer.subarray(0, bytesRead)
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    } finally {
      await handle?.close()
    }
  }

  async size(name: string): Promise<number | null> {
    if (!SAFE_MEDIA_NAME.test(name)) return null
    try {
      const info = await stat(join(this.dir, name))
      return info.isFile() ? info.size : null
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    }
  }

  /** The folder is created on first write; until then the parent must be reachable. */
  async ping(): Promise<boolean> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      return (await stat(this.dir)).isDirectory()
    } catch {
      return false
    }
  }

  async exists(name: string): Promise<boolean> {
    if (!SAFE_MEDIA_NAME.test(name)) return false
    try {
      return (await stat(join(this.dir, name))).isFile()
    } catch (error) {
      if (isMissing(error)) return false
      throw error
    }
  }

  async delete(name: string): Promise<boolean> {
    if (!SAFE_MEDIA_NAME.test(name)) return false
    try {
      await unlink(join(this.dir, name))
      return true
    } catch (error) {
      if (isMissing(error)) return false
      throw error
    }
  }

  async createUploadUrl(
    name: string,
    options: UploadUrlOptions,
  ): Promise<{ url: string; method: 'PUT'; headers: Record<string, string>; expiresAt: number }> {
    this.pathOf(name) // refuses unsafe names before anything is signed
    const terms = {
      name,
      expires: Math.floor(this.clock() / 1000) + Math.max(1, Math.floor(options.expiresInSeconds)),
      type: options.contentType,
      max: Math.floor(options.maxBytes),
    }
    const sig = await signUploadLink(terms, this.options.secret)
    const query = new URLSearchParams({
      expires: String(terms.expires),
      type: terms.type,
      max: String(terms.max),
      sig,
    })
    return {
      url: `${this.baseUrl(options.origin)}/api/uploads/${name}?${query}`,
      method: 'PUT',
      headers: { 'Content-Type': options.contentType },
      expiresAt: terms.expires * 1000,
    }
  }

  /** The only way a name becomes a path: generated names only, so no traversal is possible. */
  private pathOf(name: string): string {
    if (!SAFE_MEDIA_NAME.test(name)) throw appError('invalidMediaName')
    return join(this.dir, name)
  }
}
