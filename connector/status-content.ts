import { Readable } from 'node:stream'
import type { AnyMessageContent } from '@whiskeysockets/baileys'
import { fileTypeFromBuffer } from 'file-type'
import { appError } from '../shared/errors.js'
import { type MediaKind, SNIFF_BYTES } from '../shared/media-types.js'
import type { StatusType } from '../shared/schemas.js'
import { type MediaStore, SAFE_MEDIA_NAME } from '../shared/storage/types.js'

export { type MediaKind, mediaKindFromContentType, mediaKindFromUrl } from '../shared/media-types.js'

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
      if (!SAFE_MEDIA_NAME.test(name)) throw appError('fileNotFound')
      // Unless told, Baileys labels every image JPEG and every video MP4: say what the file is.
      const head = await deps.media.readHead(name, SNIFF_BYTES)
      const stream = head ? await deps.media.openStream(name) : null
      if (!head || !stream) throw appError('fileNotFound')
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
    throw appError('mediaUrlInvalid')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw appError('mediaUrlInvalid')
  }
  return url
}
