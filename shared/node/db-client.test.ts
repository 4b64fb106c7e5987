import { execFile } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Client } from '@libsql/client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { localFilePath, openDatabase } from './db-client.js'

const execFileAsync = promisify(execFile)

describe('openDatabase', () => {
  let dir: string
  const clients: Client[] = []

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wa-db-client-'))
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await rm(dir, { recursive: true, force: true })
  })

  const open = async (url: string) => {
    const client = await openDatabase(url)
    clients.push(client)
    return client
  }

  it('creates the parent folders of a file database and switches it to WAL', async () => {
    const path = join(dir, 'nested', 'deeper', 'app.db')
    const client = await open(`file:${path}`)
    expect((await stat(path)).isFile()).toBe(true)
    const mode = await client.execute('PRAGMA journal_mode')
    expect(mode.rows[0]?.journal_mode).toBe('wal')
  })

  it('makes writers in two processes take turns instead of failing with SQLITE_BUSY', async () => {
    const url = `file:${join(dir, 'shared.db')}`
    const client = await open(url)
    await client.execute('CREATE TABLE t (n INTEGER, writer TEXT)')
    const writesEach = 300
    const insert = (c: Client, writer: string) => async () => {
      for (let n = 0; n < writesEach; n++) {
        await c.batch([{ sql: 'INSERT INTO t (n, writer) VALUES (?, ?)', args: [n, writer] }], 'write')
      }
    }
    // The other process opens the same file through openDatabase and writes while this one does.
    const otherScript = `
      const { openDatabase } = await import(${JSON.stringify(new URL('./db-client.ts', import.meta.url).href)})
      const c = await openDatabase(${JSON.stringify(url)})
      for (let n = 0; n < ${writesEach}; n++) {
        await c.batch([{ sql: 'INSERT INTO t (n, writer) VALUES (?, ?)', args: [n, 'other'] }], 'write')
      }`
    const other = execFileAsync(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      otherScript,
    ])
    await Promise.all([insert(client, 'this')(), other])
    const count = await client.execute('SELECT COUNT(*) AS c FROM t')
    expect(count.rows[0]?.c).toBe(2 * writesEach)
  })

  it('opens in-memory databases', async () => {
    const client = await open(':memory:')
    expect((await client.execute('SELECT 1 AS one')).rows[0]?.one).toBe(1)
  })
})

describe('localFilePath', () => {
  it('reads relative, absolute and URL-style file paths', () => {
    expect(localFilePath('file:./data/app.db')).toBe('./data/app.db')
    expect(localFilePath('file:/var/lib/app.db')).toBe('/var/lib/app.db')
    expect(localFilePath('file:///var/lib/my%20app.db')).toBe('/var/lib/my app.db')
  })

  it('has no path for memory and remote databases', () => {
    expect(localFilePath(':memory:')).toBeNull()
    expect(localFilePath('file::memory:')).toBeNull()
    expect(localFilePath('libsql://db.example.com')).toBeNull()
    expect(localFilePath('http://127.0.0.1:8080')).toBeNull()
  })
})
