/**
 * `npm run rotate-auth-key`: re-encrypts the stored WhatsApp credentials and keys in place.
 *
 *   AUTH_ENCRYPTION_KEY      the key they are encrypted with now (unset: they are plain)
 *   NEW_AUTH_ENCRYPTION_KEY  the key to encrypt them with (unset: store them plain)
 *
 * plus DATA_DIR / LIBSQL_URL / LIBSQL_AUTH_TOKEN as for `npm start`. Stop the product first; on a
 * local database file this is checked and a running product makes it refuse. Prints counts only.
 */
import { access } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createClient } from '@libsql/client'
import { ConfigSchema } from '../shared/config.js'
import { localFilePath } from '../shared/node/db-client.js'
import { rotateAuthKey } from './auth/key-rotation.js'

/** Exit codes: 1 for any refusal or failure, with the reason on stderr. */
const fail = (message: string): never => {
  console.error(`rotate-auth-key: ${message}`)
  process.exit(1)
}

const SETTINGS = ConfigSchema.pick({
  DATA_DIR: true,
  LIBSQL_URL: true,
  LIBSQL_AUTH_TOKEN: true,
  AUTH_ENCRYPTION_KEY: true,
})

const parseSettings = (env: NodeJS.ProcessEnv) => {
  const parsed = SETTINGS.safeParse(env)
  const next = ConfigSchema.shape.AUTH_ENCRYPTION_KEY.safeParse(env.NEW_AUTH_ENCRYPTION_KEY)
  const issues = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`)),
    ...(next.success ? [] : next.error.issues.map((i) => `NEW_AUTH_ENCRYPTION_KEY: ${i.message}`)),
  ]
  if (!parsed.success || !next.success) return fail(`invalid configuration: ${issues.join('; ')}`)
  return { ...parsed.data, NEW_AUTH_ENCRYPTION_KEY: next.data }
}

/** SQLite answers a lock it cannot get with SQLITE_BUSY. */
const isBusy = (error: unknown) =>
  typeof error === 'object' &&
  error !== null &&
  String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')

const main = async () => {
  // The script may be the first to create SQLite's -wal file; it must be owner-only like the rest.
  process.umask(0o077)
  const settings = parseSettings(process.env)
  const from = settings.AUTH_ENCRYPTION_KEY
  const to = settings.NEW_AUTH_ENCRYPTION_KEY
  if (!from && !to) {
    fail('set NEW_AUTH_ENCRYPTION_KEY (the new key) and, if the data is encrypted now, AUTH_ENCRYPTION_KEY')
  }

  const url = settings.LIBSQL_URL ?? `file:${join(resolve(settings.DATA_DIR), 'tracker.db')}`
  const filePath = localFilePath(url)
  if (filePath !== null) {
    // Opening a missing file would create an empty database; a wrong DATA_DIR must not look like success.
    await access(filePath).catch(() => fail('no database found: check DATA_DIR or LIBSQL_URL'))
  }

  // One connection, so the lock taken below is the one the transaction runs on.
  const client = createClient({ url, authToken: settings.LIBSQL_AUTH_TOKEN, concurrency: 1, timeout: 2000 })
  try {
    if (filePath !== null) {
      // The running product keeps the file open, which in WAL mode means a shared lock for as long
      // as it runs. An exclusive-mode connection needs that lock gone, so its first statement fails
      // with SQLITE_BUSY while the product runs, and once it has the lock the product cannot start
      // (or write with the old key) until this process ends.
      await client.execute('PRAGMA locking_mode=EXCLUSIVE')
    }
    const result = await rotateAuthKey(client, { from, to })
    const how = to ? 'encrypted with NEW_AUTH_ENCRYPTION_KEY' : 'decrypted to plain text'
    console.log(
      `${result.creds} credential rows, ${result.keys} key rows and ${result.webhookSecrets} webhook secrets ${how}.`,
    )
    if (filePath === null)
      console.log('Remote database: make sure the product was stopped during the rotation.')
    console.log(
      to
        ? 'Start the product with AUTH_ENCRYPTION_KEY set to the new key.'
        : 'Start the product without AUTH_ENCRYPTION_KEY.',
    )
  } catch (error) {
    if (isBusy(error)) fail('the database is in use: stop the product first, then run this again')
    fail(error instanceof Error ? error.message : String(error))
  } finally {
    client.close()
  }
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)))
