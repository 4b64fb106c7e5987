import { chmod, lstat, mkdir, open, readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Logger } from '../shared/node/logger.js'

/** Files SQLite keeps next to the database. */
const DATABASE_SIDE_FILES = ['', '-wal', '-shm', '-journal']

/** Owner-only permissions for the data folder and everything the product keeps in it. */
export const DATA_DIR_MODE = 0o700
export const DATA_FILE_MODE = 0o600

export interface SecureDataDirOptions {
  dataDir: string
  /** The local database file (default `DATA_DIR/tracker.db`), or null for a remote or in-memory one. */
  databasePath: string | null
  /** Where uploads live (`DATA_DIR/media`). */
  mediaDir: string
  logger: Logger
}

type Outcome = 'unchanged' | 'tightened' | 'missing' | 'failed'

/**
 * Drops group and other permissions from one file or folder, keeping the owner's. Symlinks are
 * skipped: chmod would follow them to whatever they point at.
 */
const tighten = async (path: string, kind: 'file' | 'directory'): Promise<Outcome> => {
  try {
    const stats = await lstat(path)
    if (kind === 'file' ? !stats.isFile() : !stats.isDirectory()) return 'unchanged'
    if ((stats.mode & 0o077) === 0) return 'unchanged'
    await chmod(path, stats.mode & 0o700)
    return 'tightened'
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    return 'failed'
  }
}

/**
 * The data folder holds the WhatsApp credentials (plain text without AUTH_ENCRYPTION_KEY), the API
 * key and users' media, so nobody but the owner may read it: the folder is made 0700 and the files
 * 0600. New files get these modes where they are created (here, in `resolveApiKey` and in
 * `LocalMediaStore`), so they hold whatever umask the embedding process runs with; files of an older
 * install, created 0755/0644 under the usual umask, are tightened here at every start.
 *
 * The database file is created empty and owner-only before libSQL opens it because SQLite gives the
 * `-wal` and `-shm` files it creates later the database file's mode.
 */
export const secureDataDir = async ({
  dataDir,
  databasePath,
  mediaDir,
  logger,
}: SecureDataDirOptions): Promise<void> => {
  await mkdir(dataDir, { recursive: true, mode: DATA_DIR_MODE })
  const outcomes: Outcome[] = [await tighten(dataDir, 'directory'), await tighten(mediaDir, 'directory')]
  outcomes.push(await tighten(join(dataDir, 'api-key'), 'file'))

  if (databasePath !== null) {
    for (const suffix of DATABASE_SIDE_FILES) outcomes.push(await tighten(databasePath + suffix, 'file'))
    await mkdir(dirname(databasePath), { recursive: true, mode: DATA_DIR_MODE })
    // 'a' creates the file if it is missing and never truncates an existing database.
    await (await open(databasePath, 'a', DATA_FILE_MODE)).close()
  }

  const media = await readdir(mediaDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return []
    throw error
  })
  for (const name of media) outcomes.push(await tighten(join(mediaDir, name), 'file'))

  const tightened = outcomes.filter((o) => o === 'tightened').length
  const failed = outcomes.filter((o) => o === 'failed').length
  if (tightened > 0) {
    logger.info({ files: tightened }, 'data folder permissions restricted to the owner')
  }
  if (failed > 0) {
    // Not fatal: the folder may be a mount whose permissions the product cannot change.
    logger.warn({ files: failed }, 'could not restrict the permissions of some data files to the owner')
  }
}
