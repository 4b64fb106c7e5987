import type { StatusView } from '../../../shared/schemas.js'
import type { Api } from '../api.js'
import { fontFor } from '../format.js'
import { MediaThumb } from './media-thumb.js'

/** A small picture of the status as contacts see it. */
export const StatusPreview = ({ api, status }: { api: Api; status: StatusView }) => {
  if (status.type === 'text') {
    const look = fontFor(status.font)
    return (
      <div
        class="thumb text-thumb"
        style={{
          background: status.backgroundColor ?? '#315575',
          fontFamily: look.family,
          fontWeight: look.weight,
        }}
      >
        {status.content.slice(0, 80)}
      </div>
    )
  }
  if (status.type === 'url') {
    return (
      <div class="thumb url-thumb" title={status.content}>
        <span aria-hidden="true">🔗</span>
        <span class="small">{hostOf(status.content)}</span>
      </div>
    )
  }
  return <MediaThumb api={api} status={status} />
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}
