import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resolveApiKey } from './api-key-file.js'

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
})
