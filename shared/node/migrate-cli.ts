import { join, resolve } from 'node:path'
import { ConfigError, loadConfig } from '../config.js'
import { migrate } from '../db/migrations.js'
import { openDatabase } from './db-client.js'

/**
 * `npm run migrate`: brings the database schema up to date and exits. Every process also does
 * this at start (each step applies once, whoever comes first), so this is for deployments that
 * want the schema ready before any process starts, e.g. a release step.
 */
const main = async () => {
  let config: ReturnType<typeof loadConfig>
  try {
    // Only the database settings matter here; a role's other requirements do not.
    config = loadConfig({ ...process.env, ROLE: 'embedded' })
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const issue of error.issues)
        console.error(`Invalid configuration: ${issue.variable}: ${issue.message}`)
      process.exit(1)
    }
    throw error
  }
  const url = config.LIBSQL_URL ?? `file:${join(resolve(config.DATA_DIR), 'tracker.db')}`
  const db = await openDatabase(url, config.LIBSQL_AUTH_TOKEN)
  try {
    const applied = await migrate(db)
    console.log(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'The schema is up to date')
  } finally {
    db.close()
  }
}

main().catch((error: unknown) => {
  console.error('Migration failed:', error instanceof Error ? error.message : error)
  process.exit(1)
})
