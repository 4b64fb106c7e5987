import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrations } from '../db/migrations.js'
import { openDatabase } from './db-client.js'

const run = (dataDir: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'shared/node/migrate-cli.ts'], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })

describe('npm run migrate', () => {
  let dataDir: string
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'migrate-'))
  })
  afterEach(() => rm(dataDir, { recursive: true, force: true }))

  it('applies each migration once when several processes start on a new database at the same time', async () => {
    const results = await Promise.all([run(dataDir), run(dataDir), run(dataDir)])
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 })
    // Between them they applied every version, and none twice.
    const applied = results.flatMap((r) =>
      (/Applied migrations: ([\d, ]+)/.exec(r.stdout)?.[1] ?? '').split(',').filter(Boolean).map(Number),
    )
    expect(applied.sort((a, b) => a - b)).toEqual(migrations.map((m) => m.version))

    const db = await openDatabase(`file:${join(dataDir, 'tracker.db')}`)
    try {
      const rows = await db.execute('SELECT version FROM schema_migrations ORDER BY version')
      expect(rows.rows.map((row) => Number(row.version))).toEqual(migrations.map((m) => m.version))
    } finally {
      db.close()
    }
    expect((await run(dataDir)).stdout).toContain('The schema is up to date')
  })
})
