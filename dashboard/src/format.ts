/** Display helpers: numbers, times, sizes, audience parsing (the API's rules, see shared/schemas.ts). */

const PHONE = /^\d{10,15}$/

/** The most numbers one send takes (MAX_TARGET_NUMBERS in shared/schemas.ts). */
export const MAX_AUDIENCE = 50_000

export interface Audience {
  /** Unique numbers in the order pasted, a leading + removed. */
  numbers: string[]
  /** Entries that are not 10–15 digits. */
  invalid: string[]
}

/**
 * Parses pasted numbers: commas, spaces, semicolons and new lines all separate; spaces, dashes,
 * dots and brackets inside a number (as phones format them) are dropped.
 */
export const parseAudience = (text: string): Audience => {
  const numbers = new Set<string>()
  const invalid: string[] = []
  for (const raw of text.split(/[,;\n\r\t]+/)) {
    const entry = raw.trim()
    if (!entry) continue
    const digits = entry.replace(/[\s().-]/g, '').replace(/^\+/, '')
    if (PHONE.test(digits)) numbers.add(digits)
    else invalid.push(entry)
  }
  return { numbers: [...numbers], invalid }
}

export const formatNumber = (number: string | null): string => (number ? `+${number}` : '–')

export const formatTime = (iso: string): string =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })

export const formatDay = (iso: string): string =>
  new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })

export const formatClock = (iso: string): string =>
  new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** "3 min ago", "2 h ago", "just now". */
export const formatAgo = (iso: string, now: number): string => {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 45) return 'just now'
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`
  return `${Math.round(seconds / 86_400)} d ago`
}

/** "23 h 10 min left", "expired". */
export const formatLeft = (iso: string, now: number): string => {
  const minutes = Math.floor((Date.parse(iso) - now) / 60_000)
  if (minutes <= 0) return 'expired'
  if (minutes < 60) return `${minutes} min left`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`
}

export const formatBytes = (bytes: number | null): string => {
  if (bytes === null) return '–'
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** Reach as a whole percentage of the audience, capped at 100 (a contact may view twice). */
export const reachPercent = (viewers: number, audience: number): number =>
  audience > 0 ? Math.min(100, Math.round((viewers / audience) * 100)) : 0

/** The fonts text statuses may use, by the protocol's numbers, and a CSS look-alike for each. */
export const FONTS: { id: number; name: string; family: string; weight: number }[] = [
  { id: 0, name: 'Sans', family: 'system-ui, sans-serif', weight: 400 },
  { id: 1, name: 'Serif', family: 'Georgia, "Times New Roman", serif', weight: 400 },
  { id: 2, name: 'Script', family: '"Brush Script MT", "Comic Sans MS", cursive', weight: 400 },
  { id: 6, name: 'Bold', family: 'system-ui, sans-serif', weight: 700 },
  { id: 7, name: 'Breeze', family: '"Segoe Print", "Bradley Hand", cursive', weight: 400 },
  { id: 8, name: 'Display', family: 'Georgia, serif', weight: 700 },
  { id: 9, name: 'Heavy', family: 'Impact, "Arial Black", sans-serif', weight: 900 },
  { id: 10, name: 'Typewriter', family: '"Courier New", Courier, monospace', weight: 700 },
]

export const fontFor = (id: number | null | undefined) => FONTS.find((font) => font.id === id) ?? FONTS[0]!

export const BACKGROUNDS = ['#315575', '#1f7a57', '#8e3b46', '#6b4f9e', '#b5651d', '#243447', '#c2185b']
