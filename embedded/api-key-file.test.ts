import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiKeyFileError, resolveApiKey } from './api-key-file.js'

describe('resolveApiKey', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apikey-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('uses the configured key and writes nothing', async () => {
    const resolved = await resolveApiKey(dir, 'configured-key-123456')
    expect(resolved).toEqual({ key: 'configured-key-123456', source: 'config', path: null })
    await expect(stat(join(dir, 'api-key'))).rejects.toThrow()
  })

  it('generates a key on first run, stores it owner-only, and reuses it afterwards', async () => {
    const first = await resolveApiKey(join(dir, 'nested'), undefined)
    expect(first.source).toBe('generated')
    expect(first.key).toMatch(/^wst_[A-Za-z0-9_-]{32}$/)
    const mode = (await stat(first.path!)).mode & 0o777
    expect(mode).toBe(0o600)
    expect((await readFile(first.path!, 'utf8')).trim()).toBe(first.key)

    const second = await resolveApiKey(join(dir, 'nested'), undefined)
    expect(second).toEqual({ key: first.key, source: 'file', path: first.path })
  })

  it('hands out one key when two starts race', async () => {
    const [a, b] = await Promise.all([resolveApiKey(dir, undefined), resolveApiKey(dir, undefined)])
    expect(a.key).toBe(b.key)
  })

  it('refuses a stored key shorter than 16 characters with a message naming the file', async () => {
    const path = join(dir, 'api-key')
    for (const content of ['short\n', '', '  \n', '123456789012345']) {
      await writeFile(path, content, { mode: 0o600 })
      const attempt = resolveApiKey(dir, undefined)
      await expect(attempt).rejects.toBeInstanceOf(ApiKeyFileError)
      await expect(attempt).rejects.toThrow(`${path} holds an API key shorter than 16 characters`)
      // Left as it was: replacing it would lock out whoever uses that key.
      expect(await readFile(path, 'utf8')).toBe(content)
    }
  })

  it('hands out one key to many racing starts and leaves no temp file behind', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => resolveApiKey(dir, undefined)))
    expect(new Set(all.map((r) => r.key)).size).toBe(1)
    expect(all.filter((r) => r.source === 'generated')).toHaveLength(1)
    expect(await readdir(dir)).toEqual(['api-key'])
  })
})
