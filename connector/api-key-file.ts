import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface ResolvedApiKey {
  key: string
  /** 'config' when API_KEY was set, 'file' when read from the data dir, 'generated' on a first run. */
  source: 'config' | 'file' | 'generated'
  path: string | null
}

/**
 * The API key in embedded mode: API_KEY when configured; otherwise the key stored in the data dir,
 * generated (and stored readable by the owner only) on the first start so the product is never open.
 */
export const resolveApiKey = async (
  dataDir: string,
  configured: string | undefined,
): Promise<ResolvedApiKey> => {
  if (configured) return { key: configured, source: 'config', path: null }
  const path = join(dataDir, 'api-key')
  try {
    const stored = (await readFile(path, 'utf8')).trim()
    if (stored.length >= 16) return { key: stored, source: 'file', path }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(dataDir, { recursive: true })
  const key = `wst_${randomBytes(24).toString('base64url')}`
  // 'wx' refuses to overwrite: two processes starting at once must not hand out different keys.
  try {
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveApiKey(dataDir, configured)
    throw error
  }
  return { key, source: 'generated', path }
}
