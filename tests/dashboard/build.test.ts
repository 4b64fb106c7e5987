/**
 * The built dashboard (what `npm ci` and `npm run build` leave in dist/dashboard): small, with no
 * inline code its security policy would block, and the policy itself in the `_headers` file both
 * the Node server and Workers static assets read.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  defaultDashboardDir,
  loadDashboardAssets,
  parseHeadersRules,
} from '../../shared/node/dashboard-assets.js'

/** The page shell: HTML, script and styles, gzipped, as a first visit downloads them. */
const SHELL_BUDGET_BYTES = 150 * 1024

const dir = defaultDashboardDir()

describe('the built dashboard', () => {
  it('exists where the servers look for it', () => {
    expect(dir).not.toBeNull()
  })

  it('keeps its page shell within 150 KB gzipped', async () => {
    const assets = (await readdir(join(dir!, 'assets'))).map((name) => join(dir!, 'assets', name))
    let total = 0
    for (const file of [join(dir!, 'index.html'), ...assets])
      total += gzipSync(await readFile(file)).byteLength
    expect(total).toBeGreaterThan(1024)
    expect(total).toBeLessThanOrEqual(SHELL_BUDGET_BYTES)
  })

  it('loads only its own files: no inline script or style, no other origin', async () => {
    const html = await readFile(join(dir!, 'index.html'), 'utf8')
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(html).not.toMatch(/<style|\sstyle=/)
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
    expect([...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1])).toEqual([
      expect.stringMatching(/^\/assets\/app-[A-Z0-9]+\.js$/),
    ])
  })

  it('states its security policy once, for every runtime', async () => {
    const rules = parseHeadersRules(await readFile(join(dir!, '_headers'), 'utf8'))
    expect(rules['/*']?.['Content-Security-Policy']).toMatch(
      /default-src 'self'; script-src 'self'; style-src 'self'/,
    )
    expect(rules['/*']?.['X-Frame-Options']).toBe('DENY')
    expect(rules['/assets/*']?.['Cache-Control']).toMatch(/immutable/)
    const served = await loadDashboardAssets(dir)
    expect(served?.headers).toEqual(rules['/*'])
  })
})
