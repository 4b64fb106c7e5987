import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_MARKER, resetDemoDataDir } from './data-dir.js'

describe('resetDemoDataDir', () => {
  let root: string

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'wst-demo-dir-'))
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('creates a missing folder with its marker', async () => {
    const dir = await resetDemoDataDir(join(root, 'data', 'demo'))
    expect(await readdir(dir)).toEqual([DEMO_MARKER])
  })

  it('empties a folder a previous demo run left', async () => {
    const dir = await resetDemoDataDir(join(root, 'demo'))
    await writeFile(join(dir, 'tracker.db'), 'old')
    await mkdir(join(dir, 'media'))
    await writeFile(join(dir, 'media', 'a.jpg'), 'old')
    await resetDemoDataDir(dir)
    expect(await readdir(dir)).toEqual([DEMO_MARKER])
  })

  it('refuses a non-empty folder that is not the demo’s, and leaves it alone', async () => {
    await writeFile(join(root, 'tracker.db'), 'real data')
    await expect(resetDemoDataDir(root)).rejects.toThrow('holds files that are not from the demo')
    expect(await readdir(root)).toEqual(['tracker.db'])
  })
})
