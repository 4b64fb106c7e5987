/**
 * The demo's own data folder. The simulated phone and contacts live only in memory, so links from a
 * previous run cannot log in again: every start begins with an empty folder. A marker file proves a
 * folder belongs to the demo before anything in it is removed; any other non-empty folder is refused.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

export const DEMO_MARKER = '.wa-status-tracker-demo'

export async function resetDemoDataDir(dir: string): Promise<string> {
  const path = resolve(dir)
  const entries = await readdir(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null
    throw error
  })
  if (entries?.length && !entries.includes(DEMO_MARKER)) {
    throw new Error(
      `${path} holds files that are not from the demo; set DEMO_DATA_DIR to a new or empty folder`,
    )
  }
  for (const entry of entries ?? []) await rm(join(path, entry), { recursive: true, force: true })
  await mkdir(path, { recursive: true })
  await writeFile(
    join(path, DEMO_MARKER),
    'Data of `npm run demo` (simulated WhatsApp); reset on every start.\n',
  )
  return path
}
