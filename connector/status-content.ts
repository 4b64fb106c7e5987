import { Readable } from 'node:stream'
import type { AnyMessageContent } from '@whiskeysockets/baileys'
import { fileTypeFromBuffer } from 'file-type'
import { AppError, Messages } from '../shared/errors.js'
import type { StatusType } from '../shared/schemas.js'
import { type MediaStore, SAFE_MEDIA_NAME } from '../shared/storage/types.js'

const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'bmp'])
const VIDEO_EXTENSIONS = new Set(['mp4', 'avi', 'mov', 'wmv', 'flv', 'mkv', 'webm'])

export type MediaKind = 'image' | 'video'

/** Finds a URL's media kind from the extension of its path, ignoring query and fragment. */
export const mediaKindFromUrl = (url: URL): MediaKind | null => {
  const match = /\.([a-z0-9]+)$/i.exec(url.pathname)
  const extension = match?.[1]?.toLowerCase()
  if (!extension) return null
  if (IMAGE_EXTENSIONS.has(extension)) return 'image'
  if (VIDEO_EXTENSIONS.has(extension)) return 'video'
  return null
}

export const mediaKindFromContentType = (contentType: string | null | undefined): MediaKind | null => {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  if (type?.startsWith('image/')) return 'image'
  if (type?.startsWith('video/')) return 'video'
  return null
}

export interface StatusContentInput {
  type: StatusType
  content: string
  caption?: string | undefined
}

export interface PreparedStatusContent {
  message: AnyMessageContent
  /** The upload this status uses, kept with the row so retention can delete it later. */
  mediaFilename: string | null
  /** Whether text options (background colour, font) apply. */
  isText: boolean
}

const textMessage = (text: string): AnyMessageContent => ({
  text,
  // null (not undefined) stops Baileys from fetching a preview for links in the text.
  linkPreview: null,
})

/** Fetches what a `type: "url"` status points at (see media-fetch.ts); injected so tests stay offline. */
export type UrlMediaFetcher = (
  url: URL,
) => Promise<{ kind: MediaKind | null; bytes: Buffer | null; mimetype: string | null }>

/** Enough leading bytes for `file-type` to tell every format it knows. */
const SNIFF_BYTES = 4100

/**
 * Turns a send-status request into Baileys content. Uploads are streamed from the store (local
 * folder or S3) into Baileys' encryption; URL media is downloaded by the
 * guarded fetcher — never by Baileys, which would follow redirects to internal hosts. A URL that
 * is neither image nor video is posted as text, with the caption if there is one.
 */
export const prepareStatusContent = async (
  input: StatusContentInput,
  deps: { media: MediaStore; fetchUrl: UrlMediaFetcher },
): Promise<PreparedStatusContent> => {
  const caption = input.caption?.trim() ? input.caption : undefined
  switch (input.type) {
    case 'text':
      return { message: textMessage(input.content), mediaFilename: null, isText: true }
    case 'image':
    case 'video': {
      const name = input.content
      if (!SAFE_MEDIA_NAME.test(name)) throw new AppError('not_found', Messages.fileNotFound)
      // Unless told, Baileys labels every image JPEG and every video MP4: say what the file is.
      const head = await deps.media.readHead(name, SNIFF_BYTES)
      const stream = head ? await deps.media.openStream(name) : null
      if (!head || !stream) throw new AppError('not_found', Messages.fileNotFound)
      const mimetype = (await fileTypeFromBuffer(head))?.mime
      // A stream, not the bytes: a large video is read from the store as Baileys encrypts it.
      const media = { stream: Readable.from(stream) }
      const message: AnyMessageContent =
        input.type === 'image' ? { image: media, caption, mimetype } : { video: media, caption, mimetype }
      return { message, mediaFilename: name, isText: false }
    }
    case 'url': {
      const url = parseHttpUrl(input.content)
      const media = await deps.fetchUrl(url)
      if (media.bytes && media.kind) {
        const mimetype = media.mimetype ?? undefined
        const message: AnyMessageContent =
          media.kind === 'image'
            ? { image: media.bytes, caption, mimetype }
            : { video: media.bytes, caption, mimetype }
        return { message, mediaFilename: null, isText: false }
      }
      const text = caption ? `${caption}\n${url.href}` : url.href
      return { message: textMessage(text), mediaFilename: null, isText: true }
    }
  }
}

const parseHttpUrl = (raw: string): URL => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new AppError('bad_request', 'content must be a valid http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('bad_request', 'content must be a valid http(s) URL')
  }
  return url
}
