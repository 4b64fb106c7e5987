import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface ResolvedApiKey {
  key: string
  /** 'config' when API_KEY was set, 'file' when read from the data dir, 'generated' on a first run. */
  source: 'config' | 'file' | 'generated'
  path: string | null
}

/** The shortest key accepted, as for API_KEY. */
export const MIN_API_KEY_LENGTH = 16

/** The stored key file exists but cannot be used; the message names the file and what to do. */
export class ApiKeyFileError extends Error {
  constructor(readonly path: string) {
    super(
      `${path} holds an API key shorter than ${MIN_API_KEY_LENGTH} characters. Put a longer key in it, ` +
        'set API_KEY, or delete the file to have a new key generated.',
    )
    this.name = 'ApiKeyFileError'
  }
}

/** The stored key, or null when there is no file yet. */
const readStored = async (path: string): Promise<string | null> => {
  try {
    const stored = (await readFile(path, 'utf8')).trim()
    if (stored.length < MIN_API_KEY_LENGTH) throw new ApiKeyFileError(path)
    return stored
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

/**
 * The API key in embedded mode: API_KEY when configured; otherwise the key stored in the data dir,
 * generated (and stored readable by the owner only) on the first start so the product is never open.
 * A stored key that is too short stops the start with {@link ApiKeyFileError}: replacing it silently
 * would lock out every client that uses it.
 */
export const resolveApiKey = async (
  dataDir: string,
  configured: string | undefined,
): Promise<ResolvedApiKey> => {
  if (configured) return { key: configured, source: 'config', path: null }
  const path = join(dataDir, 'api-key')
  const stored = await readStored(path)
  if (stored !== null) return { key: stored, source: 'file', path }

  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const key = `wst_${randomBytes(24).toString('base64url')}`
  // Written in full to a temp file, then hard-linked into place: link() refuses an existing target,
  // so two processes starting at once cannot hand out different keys, and the file is never seen
  // half-written (which a reader racing a plain 'wx' write could take for a too-short key).
  const temp = join(dataDir, `.api-key.${randomBytes(6).toString('hex')}.tmp`)
  await writeFile(temp, `${key}\n`, { mode: 0o600, flag: 'wx' })
  try {
    await link(temp, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    // Another start won the race; its key is complete, so use it.
    const winner = await readStored(path)
    if (winner === null) throw error
    return { key: winner, source: 'file', path }
  } finally {
    await rm(temp, { force: true })
  }
  return { key, source: 'generated', path }
}
