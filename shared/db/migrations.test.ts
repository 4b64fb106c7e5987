import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../node/db-client.js'
import { type Migration, migrate, migrations } from './migrations.js'
import { openTestDatabase, type TestDatabase } from './test-support.js'

const tableNames = async (db: TestDatabase) => {
  const result = await db.client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  )
  return result.rows.map((row) => row.name)
}

describe('migrate', () => {
  let db: TestDatabase
  beforeEach(async () => {
    db = await openTestDatabase()
  })
  afterEach(() => db.cleanup())

  it('creates every table and records each version once', async () => {
    expect(await tableNames(db)).toEqual([
      'api_keys',
      'audiences',
      'command_log',
      'contacts',
      'lid_map',
      'scheduled_statuses',
      'schema_migrations',
      'sessions',
      'status_archive',
      'status_jobs',
      'status_versions',
      'status_viewers',
      'statuses',
      'uploads',
      'viewer_archive',
      'wa_auth_creds',
      'wa_auth_keys',
      'webhook_deliveries',
      'webhooks',
    ])
    const recorded = await db.client.execute('SELECT version FROM schema_migrations ORDER BY version')
    expect(recorded.rows.map((row) => row.version)).toEqual(migrations.map((m) => m.version))
  })

  it('creates the lookup indexes on statuses', async () => {
    const result = await db.client.execute(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'statuses'",
    )
    const names = result.rows.map((row) => row.name)
    expect(names).toEqual(expect.arrayContaining(['statuses_by_wa_message_id', 'statuses_by_expiry']))
  })

  it('does nothing when run again', async () => {
    expect(await migrate(db.client)).toEqual([])
    expect(await migrate(db.client)).toEqual([])
  })

  it('applies only new migrations on a later start', async () => {
    const next: Migration = { version: 999, name: 'add notes', statements: ['CREATE TABLE notes (id TEXT)'] }
    expect(await migrate(db.client, [...migrations, next])).toEqual([999])
    expect(await tableNames(db)).toContain('notes')
  })

  it('rolls back a failing migration as a whole, leaving it pending', async () => {
    const broken: Migration = {
      version: 999,
      name: 'broken',
      statements: ['CREATE TABLE half_done (id TEXT)', 'THIS IS NOT SQL'],
    }
    await expect(migrate(db.client, [...migrations, broken])).rejects.toThrow()
    expect(await tableNames(db)).not.toContain('half_done')
    const recorded = await db.client.execute('SELECT 1 FROM schema_migrations WHERE version = 999')
    expect(recorded.rows).toHaveLength(0)
  })

  it('lets two processes migrate the same database at once', async () => {
    const next: Migration = { version: 999, name: 'add notes', statements: ['CREATE TABLE notes (id TEXT)'] }
    const other = await openDatabase(db.url)
    try {
      const applied = await Promise.all([
        migrate(db.client, [...migrations, next]),
        migrate(other, [...migrations, next]),
      ])
      expect(applied.flat()).toEqual([999])
    } finally {
      other.close()
    }
  })

  it('refuses migrations out of order', async () => {
    const list: Migration[] = [
      { version: 2, name: 'b', statements: [] },
      { version: 1, name: 'a', statements: [] },
    ]
    await expect(migrate(db.client, list)).rejects.toThrow('Migration versions must increase')
  })
})
