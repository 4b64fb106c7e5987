import type { ViewerRecord } from './db/types.js'
import type { Viewer } from './schemas.js'

/**
 * Records → the shapes clients see, where more than one side of the product presents the same
 * thing (a viewer is listed by the API and announced by the connector): one function each, so
 * REST and Socket.IO can never disagree on a field.
 */

/**
 * Epoch ms → ISO 8601. Receipts of a burst mostly share their second (WhatsApp sends seconds), so
 * the last conversion is remembered: most records then cost no Date and no new string.
 */
let lastMs = Number.NaN
let lastIso = ''
export const iso = (ms: number): string => {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString()
    lastMs = ms
  }
  return lastIso
}

export const toViewer = (record: ViewerRecord): Viewer => ({
  jid: record.jid,
  number: record.number,
  lid: record.lid,
  viewedAt: iso(record.viewedAt),
  isReal: record.isReal,
})
