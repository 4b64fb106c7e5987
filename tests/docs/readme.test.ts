import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { ConfigSchema } from '../../shared/config.js'

/** The README is the newcomer's manual: every setting the product reads must be in its tables. */
describe('README', () => {
  it('documents every configuration variable', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
    const documented = new Set<string>()
    for (const line of readme.split('\n')) {
      if (!line.startsWith('| `')) continue
      const first = line.split('|')[1] ?? ''
      for (const match of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) if (match[1]) documented.add(match[1])
    }
    const missing = Object.keys(ConfigSchema.shape).filter((name) => !documented.has(name))
    expect(missing).toEqual([])
  })
})
