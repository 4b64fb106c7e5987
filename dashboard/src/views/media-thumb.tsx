import { useEffect, useState } from 'preact/hooks'
import type { StatusView } from '../../../shared/schemas.js'
import type { Api } from '../api.js'

/**
 * The uploaded image or video of a status. Media needs the key, which an <img src> cannot send:
 * the bytes are fetched with it and shown through a blob URL (released when the row goes).
 */
export const MediaThumb = ({ api, status }: { api: Api; status: StatusView }) => {
  const [src, setSrc] = useState<string | null>(null)
  const [missing, setMissing] = useState(false)
  useEffect(() => {
    let url: string | null = null
    let cancelled = false
    api
      .media(status.content)
      .then((blob) => {
        if (cancelled) return
        if (!blob) return setMissing(true)
        url = URL.createObjectURL(blob)
        setSrc(url)
      })
      .catch(() => !cancelled && setMissing(true))
    return () => {
      cancelled = true
      if (url) URL.revokeObjectURL(url)
    }
  }, [api, status.content])

  const label = status.caption || `${status.type} status`
  if (src && status.type === 'image') return <img class="thumb" src={src} alt={label} />
  if (src && status.type === 'video')
    return <video class="thumb" src={src} muted preload="metadata" aria-label={label} />
  return (
    <div class="thumb url-thumb" title={missing ? 'The file is no longer stored' : undefined}>
      <span aria-hidden="true">{status.type === 'video' ? '🎬' : '🖼'}</span>
      <span class="small">{missing ? 'file removed' : status.type}</span>
    </div>
  )
}
