import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BufferJSON } from '@whiskeysockets/baileys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../shared/node/db-client.js'
import { createDbAuthState } from './auth/auth-state.js'

/**
 * `npm run rotate-auth-key` as an operator runs it, in its own process. Everything that touches the
 * database before the last rotation runs in a child process too: a libSQL connection is only let go
 * when it is garbage-collected, and one left in this process would hold the lock that tells the
 * script the product is running.
 */
const repo = process.cwd()
/** Node with tsx's loader in one process (not the tsx CLI, which runs a second one), so a kill reaches it. */
const NODE_TSX = [process.execPath, '--import', 'tsx'] as const
const moduleUrl = (path: string) => pathToFileURL(join(repo, path)).href

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

const runTsx = (args: string[], env: Record<string, string>) =>
  new Promise<Ran>((resolve, reject) => {
    const child = spawn(NODE_TSX[0], [...NODE_TSX.slice(1), ...args], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
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

/** Seeds two linked sessions (creds and keys, plain) and prints their creds. Repo modules only: the
 * scripts live in a temp folder, outside node_modules' reach. */
const SEED = `
import { BufferJSON } from '${moduleUrl('node_modules/@whiskeysockets/baileys/lib/index.js')}'
import { migrate } from '${moduleUrl('shared/db/index.ts')}'
import { openDatabase } from '${moduleUrl('shared/node/db-client.ts')}'
import { createDbAuthState } from '${moduleUrl('connector/auth/auth-state.ts')}'
const db = await openDatabase(process.env.DB_URL)
await migrate(db)
const creds = {}
for (const sessionId of ['acc1', 'acc2']) {
  const auth = await createDbAuthState(db, sessionId)
  auth.state.creds.me = { id: sessionId + ':1@s.whatsapp.net' }
  await auth.saveCreds()
  await auth.state.keys.set({
    'pre-key': { 1: { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) }, 2: { public: Buffer.alloc(32, 3), private: Buffer.alloc(32, 4) } },
    session: { '628123456789.0': Buffer.alloc(64, 5) },
  })
  creds[sessionId] = auth.state.creds
}
console.log(JSON.stringify(creds, BufferJSON.replacer))
`

/** Prints every stored value and, per key given, how many values it opens. */
const INSPECT = `
import { openDatabase } from '${moduleUrl('shared/node/db-client.ts')}'
import { authCredsContext, authKeyContext, createValueCipher } from '${moduleUrl('connector/auth/auth-cipher.ts')}'
const db = await openDatabase(process.env.DB_URL)
const rows = (await db.execute(\`SELECT session_id, '' AS type, '' AS id, value FROM wa_auth_creds
  UNION ALL SELECT session_id, type, id, value FROM wa_auth_keys ORDER BY 1, 2, 3\`)).rows
const opens = (hex) => {
  const cipher = createValueCipher(hex ? Buffer.from(hex, 'hex') : undefined)
  return rows.filter((r) => {
    const context = r.type ? authKeyContext(r.session_id, r.type, r.id) : authCredsContext(r.session_id)
    try { return !String(r.value).startsWith('enc1:') === !hex && cipher.open(String(r.value), context) } catch { return false }
  }).length
}
console.log(JSON.stringify({ values: rows.map((r) => String(r.value)), opens: Object.fromEntries((process.env.KEYS ?? '').split(',').map((k) => [k, opens(k)])) }))
`

describe('npm run rotate-auth-key', () => {
  let dir: string
  let dataDir: string
  let dbUrl: string
  let product: ChildProcess | null = null
  const keyA = randomBytes(32).toString('hex')
  const keyB = randomBytes(32).toString('hex')
  const wrong = randomBytes(32).toString('base64')

  const rotate = (env: Record<string, string>) =>
    runTsx(['connector/rotate-auth-key.ts'], { DATA_DIR: dataDir, ...env })
  const inspect = async (keys: string[]) => {
    const ran = await runTsx([join(dir, 'inspect.mts')], { DB_URL: dbUrl, KEYS: keys.join(',') })
    expect(ran.stderr).toBe('')
    return JSON.parse(ran.stdout) as { values: string[]; opens: Record<string, number> }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rotate-'))
    dataDir = join(dir, 'data')
    dbUrl = `file:${join(dataDir, 'tracker.db')}`
    await writeFile(join(dir, 'seed.mts'), SEED)
    await writeFile(join(dir, 'inspect.mts'), INSPECT)
  })
  afterEach(async () => {
    if (product && product.exitCode === null) product.kill('SIGKILL')
    product = null
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses while the product runs, then goes plain → A → B → plain; a wrong key changes nothing', async () => {
    const seeded = await runTsx([join(dir, 'seed.mts')], { DB_URL: dbUrl })
    expect(seeded.code).toBe(0)
    const creds = JSON.parse(seeded.stdout, BufferJSON.reviver) as Record<string, unknown>
    const rows = (await inspect([''])).opens['']!
    expect(rows).toBe(2 + 2 * 3)

    // The product on the same data folder: the script must not run under it.
    product = spawn(NODE_TSX[0], [...NODE_TSX.slice(1), 'embedded/main.ts'], {
      cwd: repo,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    const running = product
    await new Promise<void>((resolve, reject) => {
      let out = ''
      running.stdout?.on('data', (d) => {
        out += d
        if (out.includes('docs:')) resolve()
      })
      running.once('exit', (code) => reject(new Error(`the product exited (${code})`)))
    })
    const refused = await rotate({ NEW_AUTH_ENCRYPTION_KEY: keyA })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('the database is in use: stop the product first')
    running.kill('SIGTERM')
    await new Promise((resolve) => running.once('exit', resolve))
    expect((await inspect([''])).opens['']).toBe(rows)

    const toA = await rotate({ NEW_AUTH_ENCRYPTION_KEY: keyA })
    expect(toA).toMatchObject({ code: 0, stderr: '' })
    expect(toA.stdout).toBe(
      `2 credential rows, 6 key rows and 0 webhook secrets encrypted with NEW_AUTH_ENCRYPTION_KEY.\nStart the product with AUTH_ENCRYPTION_KEY set to the new key.\n`,
    )
    const underA = await inspect(['', keyA, keyB])
    expect(underA.opens).toEqual({ '': 0, [keyA]: rows, [keyB]: 0 })

    const wrongKey = await rotate({ AUTH_ENCRYPTION_KEY: wrong, NEW_AUTH_ENCRYPTION_KEY: keyB })
    expect(wrongKey.code).toBe(1)
    expect(wrongKey.stderr).toContain('row cannot be read with the current key')
    expect(wrongKey.stderr).toContain('nothing was changed')
    const missingKey = await rotate({ NEW_AUTH_ENCRYPTION_KEY: keyB })
    expect(missingKey.code).toBe(1)
    expect((await inspect([])).values).toEqual(underA.values)

    const toB = await rotate({ AUTH_ENCRYPTION_KEY: keyA, NEW_AUTH_ENCRYPTION_KEY: keyB })
    expect(toB.code).toBe(0)
    expect((await inspect(['', keyA, keyB])).opens).toEqual({ '': 0, [keyA]: 0, [keyB]: rows })

    const toPlain = await rotate({ AUTH_ENCRYPTION_KEY: keyB })
    expect(toPlain.code).toBe(0)
    expect(toPlain.stdout).toContain(
      '2 credential rows, 6 key rows and 0 webhook secrets decrypted to plain text.',
    )

    // No key material in anything the script printed.
    for (const ran of [refused, toA, wrongKey, missingKey, toB, toPlain]) {
      for (const key of [keyA, keyB, wrong]) expect(ran.stdout + ran.stderr).not.toContain(key)
    }

    // The last step: the auth state reads the result as the product would.
    const db = await openDatabase(dbUrl)
    for (const sessionId of ['acc1', 'acc2']) {
      const auth = await createDbAuthState(db, sessionId)
      expect(auth.state.creds).toEqual(creds[sessionId])
      const keys = await auth.state.keys.get('pre-key', ['1', '2'])
      expect(keys['1']?.private).toEqual(Buffer.alloc(32, 2))
    }
    db.close()
  })

  it('refuses without a new or old key, with a bad key, and when there is no database', async () => {
    const nothing = await rotate({})
    expect(nothing.code).toBe(1)
    expect(nothing.stderr).toContain('set NEW_AUTH_ENCRYPTION_KEY')
    const bad = await rotate({ NEW_AUTH_ENCRYPTION_KEY: 'abc' })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('NEW_AUTH_ENCRYPTION_KEY: must be 32 bytes')
    const missing = await rotate({ NEW_AUTH_ENCRYPTION_KEY: keyA })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no database found')
  })
})
