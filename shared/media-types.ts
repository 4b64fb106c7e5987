import { fileTypeFromBuffer } from 'file-type/core'
import { randomHex } from './random.js'

/**
 * The one table of media the product handles: which types count as an image or a video status,
 * the extension each stored file gets, and how a type or a URL's extension maps to a kind. The API
 * (uploads) and the connector (URL media) both read it.
 */
export type MediaKind = 'image' | 'video'

/** Images WhatsApp shows as a status; other image formats are refused. */
const IMAGE_TYPES: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
}

/** Video types a client may declare for an upload link, with the extension the stored name gets. */
const VIDEO_TYPES: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/matroska': 'mkv',
  'video/x-matroska': 'mkv',
  'video/vnd.avi': 'avi',
  'video/x-msvideo': 'avi',
  'video/3gpp': '3gp',
  'video/3gpp2': '3g2',
  'video/x-m4v': 'm4v',
  'video/x-flv': 'flv',
  'video/x-ms-asf': 'asf',
  'video/x-ms-wmv': 'wmv',
  'video/mpeg': 'mpg',
  'video/ogg': 'ogv',
}

/**
 * Names of one format that `file-type` and clients spell differently, mapped to one spelling.
 * MP4 and M4V are the same ISO BMFF container: `file-type` says video/x-m4v only when the major
 * brand is Apple's `M4V `, and video/mp4 for every other MP4 (isom, mp41, mp42, avc1, dash, …), a
 * difference a client has no way to see, so the two count as one. WMV is an ASF file with a video
 * stream (reported as video/x-ms-asf), and MP1S/MP2P are `file-type`'s names for MPEG program
 * streams, i.e. ordinary .mpg files.
 */
const SAME_FORMAT: Record<string, string> = {
  'video/x-matroska': 'video/matroska',
  'video/x-msvideo': 'video/vnd.avi',
  'video/x-m4v': 'video/mp4',
  'video/x-ms-wmv': 'video/x-ms-asf',
  'video/mp1s': 'video/mpeg',
  'video/mp2p': 'video/mpeg',
}

const canonicalType = (type: string) => {
  const normalized = type.split(';')[0]?.trim().toLowerCase() ?? ''
  return SAME_FORMAT[normalized] ?? normalized
}

/** Whether the sniffed type is the declared one, allowing only true aliases of one format. */
export const isSameMediaType = (declared: string, sniffed: string) =>
  canonicalType(declared) === canonicalType(sniffed)

/** How many leading bytes `file-type` needs to recognise every format it knows. */
export const SNIFF_BYTES = 4100

export const declarableTypes = (kind: MediaKind): string[] =>
  Object.keys(kind === 'image' ? IMAGE_TYPES : VIDEO_TYPES)

/** The extension for a declared content type of this kind, or null when the type is not accepted. */
export const extensionForDeclared = (kind: MediaKind, contentType: string): string | null => {
  const normalized = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  return (kind === 'image' ? IMAGE_TYPES : VIDEO_TYPES)[normalized] ?? null
}

export interface SniffedMedia {
  kind: MediaKind
  mime: string
  ext: string
}

/**
 * What a file really is, from its first bytes (never the client's claim). Only the image formats
 * above and any `video/*` format count as media.
 */
export const sniffMedia = async (head: Uint8Array): Promise<SniffedMedia | null> => {
  if (head.byteLength === 0) return null
  const detected = await fileTypeFromBuffer(head)
  if (!detected) return null
  const ext = detected.ext.toLowerCase()
  if (!/^[a-z0-9]{1,5}$/.test(ext)) return null
  if (IMAGE_TYPES[detected.mime]) return { kind: 'image', mime: detected.mime, ext }
  if (detected.mime.startsWith('video/')) return { kind: 'video', mime: detected.mime, ext }
  return null
}

/** A fresh stored name `<ms>-<random hex>.<ext>`, matching SAFE_MEDIA_NAME. */
export const newMediaName = (now: number, ext: string) => `${now}-${randomHex(8)}.${ext}`

const EXTENSION_KIND: ReadonlyMap<string, MediaKind> = new Map([
  ...Object.values(IMAGE_TYPES).map((ext) => [ext, 'image'] as const),
  ['jpeg', 'image'],
  ...Object.values(VIDEO_TYPES).map((ext) => [ext, 'video'] as const),
])

/** A URL's media kind from the extension of its path, ignoring query and fragment. */
export const mediaKindFromUrl = (url: URL): MediaKind | null => {
  const extension = /\.([a-z0-9]+)$/i.exec(url.pathname)?.[1]?.toLowerCase()
  return extension ? (EXTENSION_KIND.get(extension) ?? null) : null
}

/** The kind a content type names (any image/* or video/*), or null. */
export const mediaKindFromContentType = (contentType: string | null | undefined): MediaKind | null => {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  if (type?.startsWith('image/')) return 'image'
  if (type?.startsWith('video/')) return 'video'
  return null
}
