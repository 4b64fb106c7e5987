/** Readers for raw RESP2 replies of the stream commands (`sendCommand` returns them untyped). */

export interface StreamEntry {
  id: string
  fields: Record<string, string>
}

const toFields = (raw: unknown): Record<string, string> => {
  const fields: Record<string, string> = {}
  if (!Array.isArray(raw)) return fields
  for (let i = 0; i + 1 < raw.length; i += 2) fields[String(raw[i])] = String(raw[i + 1])
  return fields
}

/** `[[id, [field, value, …]], …]` → entries; deleted entries (nil fields) are dropped. */
export const toEntries = (raw: unknown): StreamEntry[] => {
  if (!Array.isArray(raw)) return []
  const entries: StreamEntry[] = []
  for (const item of raw) {
    if (!Array.isArray(item) || item[1] === null || item[1] === undefined) continue
    entries.push({ id: String(item[0]), fields: toFields(item[1]) })
  }
  return entries
}

/** XREAD/XREADGROUP: `[[stream, entries], …]` or null on timeout. */
export const toStreams = (raw: unknown): { stream: string; entries: StreamEntry[] }[] => {
  if (!Array.isArray(raw)) return []
  return raw.flatMap((item) =>
    Array.isArray(item) ? [{ stream: String(item[0]), entries: toEntries(item[1]) }] : [],
  )
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)
