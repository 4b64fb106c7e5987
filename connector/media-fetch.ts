import type { IncomingMessage } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { fileTypeFromBuffer } from 'file-type'
import { AppError, appError } from '../shared/errors.js'
import { ipFamily, isNonPublicAddress } from '../shared/net/ip-ranges.js'
import { BlockedAddressError, guardedLookup } from './guarded-lookup.js'
import {
  type MediaKind,
  mediaKindFromContentType,
  mediaKindFromUrl,
  type UrlMediaFetcher,
} from './status-content.js'

/** The connector's default fetcher: public hosts only, capped at the upload limit. */
export const publicUrlMediaFetcher =
  (maxBytes: number): UrlMediaFetcher =>
  (url) =>
    fetchUrlMedia(url, { maxBytes })

export interface UrlMediaFetchOptions {
  maxBytes: number
  timeoutMs?: number
  maxRedirects?: number
  /** Which resolved addresses may be contacted; defaults to public addresses only. */
  isAllowedAddress?: (address: string) => boolean
}

/** Media found at a URL, or `null` media when the URL holds something else (posted as text). */
export interface UrlMedia {
  kind: MediaKind | null
  bytes: Buffer | null
  mimetype: string | null
}

const assertFetchable = (url: URL, isAllowed: (address: string) => boolean) => {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw appError('mediaUrlInvalid')
  if (url.username || url.password) throw appError('mediaUrlInvalid')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (ipFamily(host) && !isAllowed(host)) throw appError('urlNonPublic')
}

const get = (url: URL, lookup: LookupFunction, signal: AbortSignal) =>
  new Promise<IncomingMessage>((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(url, {
      method: 'GET',
      lookup,
      signal,
      headers: { accept: 'image/*,video/*;q=0.9,*/*;q=0.1' },
    })
    req.once('response', resolve)
    req.once('error', reject)
    req.end()
  })

const readCapped = async (response: IncomingMessage, maxBytes: number): Promise<Buffer> => {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      response.destroy()
      throw appError('mediaUrlTooLarge')
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}

/**
 * Downloads media for a `type: "url"` status with the SSRF rules enforced on every hop: http(s)
 * only, public addresses only (checked at connect time), a bounded number of redirects, a size cap
 * while streaming, and a timeout. What the URL holds is decided from its bytes; a page that is
 * neither image nor video is not read at all and comes back as `kind: null`.
 */
export const fetchUrlMedia = async (start: URL, options: UrlMediaFetchOptions): Promise<UrlMedia> => {
  const isAllowed = options.isAllowedAddress ?? ((address: string) => !isNonPublicAddress(address))
  const lookup = guardedLookup(isAllowed)
  const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000)
  const maxRedirects = options.maxRedirects ?? 3
  let url = start
  try {
    for (let hop = 0; ; hop++) {
      assertFetchable(url, isAllowed)
      const response = await get(url, lookup, signal)
      const status = response.statusCode ?? 0
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume()
        if (hop >= maxRedirects) throw appError('mediaUrlRedirects')
        url = new URL(response.headers.location, url)
        continue
      }
      if (status < 200 || status >= 300) {
        response.resume()
        throw appError('mediaUrlStatus', String(status))
      }
      const hinted = mediaKindFromContentType(response.headers['content-type']) ?? mediaKindFromUrl(url)
      if (!hinted) {
        response.destroy()
        return { kind: null, bytes: null, mimetype: null }
      }
      const declared = Number(response.headers['content-length'])
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        response.destroy()
        throw appError('mediaUrlTooLarge')
      }
      const bytes = await readCapped(response, options.maxBytes)
      const sniffed = await fileTypeFromBuffer(bytes)
      const kind = mediaKindFromContentType(sniffed?.mime)
      // A ".jpg" that is really an HTML error page must not go out as a broken image.
      if (!kind || !sniffed) return { kind: null, bytes: null, mimetype: null }
      return { kind, bytes, mimetype: sniffed.mime }
    }
  } catch (error) {
    if (error instanceof AppError) throw error
    if (
      error instanceof BlockedAddressError ||
      (error as { cause?: unknown }).cause instanceof BlockedAddressError
    ) {
      throw appError('urlNonPublic')
    }
    if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') {
      throw appError('mediaUrlTimeout')
    }
    throw appError('mediaUrlFailed')
  }
}
