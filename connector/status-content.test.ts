import { describe, expect, it } from 'vitest'
import { mediaKindFromContentType, mediaKindFromUrl } from './status-content.js'

describe('URL media kind', () => {
  it('reads the extension of the path, case-insensitively, ignoring the query', () => {
    expect(mediaKindFromUrl(new URL('https://x.test/a/b.JPEG?v=1'))).toBe('image')
    expect(mediaKindFromUrl(new URL('https://x.test/clip.webm#t=1'))).toBe('video')
    expect(mediaKindFromUrl(new URL('https://x.test/page.html'))).toBeNull()
    expect(mediaKindFromUrl(new URL('https://x.test/download?file=a.jpg'))).toBeNull()
  })

  it('falls back on the content type', () => {
    expect(mediaKindFromContentType('image/png; charset=binary')).toBe('image')
    expect(mediaKindFromContentType('video/mp4')).toBe('video')
    expect(mediaKindFromContentType('text/html')).toBeNull()
    expect(mediaKindFromContentType(null)).toBeNull()
  })
})
