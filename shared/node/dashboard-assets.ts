import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { DashboardAssets, DashboardFile } from '../../api/dashboard.js'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
}

/**
 * Where the build put the dashboard: `dist/dashboard` of the package, found upwards from this file
 * (it runs from shared/node/ under tsx and from dist/node/shared/node/ when compiled).
 */
export const defaultDashboardDir = (): string | null => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'dist', 'dashboard')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/** Cloudflare's `_headers` format (what the build writes): each path pattern with its headers. */
export const parseHeadersRules = (text: string): Record<string, Record<string, string>> => {
  const rules: Record<string, Record<string, string>> = {}
  let current: Record<string, string> | null = null
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue
    if (!/^\s/.test(line)) {
      current = {}
      rules[line.trim()] = current
      continue
    }
    const colon = line.indexOf(':')
    if (current && colon > 0) current[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
  }
  return rules
}

const listFiles = async (dir: string): Promise<string[]> => {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...(await listFiles(path)))
    else found.push(path)
  }
  return found
}

/**
 * Reads the built dashboard into memory once, each file with its gzip form (a few hundred KB in
 * all), so answering it is a map lookup. Null when there is no build (the API still works).
 */
export const loadDashboardAssets = async (dir = defaultDashboardDir()): Promise<DashboardAssets | null> => {
  if (!dir || !existsSync(join(dir, 'index.html'))) return null
  const files = new Map<string, DashboardFile>()
  let headers: Record<string, string> = {}
  for (const path of await listFiles(dir)) {
    const name = relative(dir, path).split(sep).join('/')
    const bytes = new Uint8Array(await readFile(path))
    if (name === '_headers') {
      // What every path gets; the build's /assets/* rule (caching) is the `immutable` flag here.
      headers = parseHeadersRules(new TextDecoder().decode(bytes))['/*'] ?? {}
      continue
    }
    const type = TYPES[extname(name)]
    if (!type) continue
    const compressed = new Uint8Array(gzipSync(bytes, { level: 9 }))
    const file: DashboardFile = {
      body: bytes,
      gzip: compressed.byteLength < bytes.byteLength ? compressed : null,
      contentType: type,
      etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
      immutable: name.startsWith('assets/'),
    }
    files.set(name === 'index.html' ? '/' : `/${name}`, file)
  }
  return { file: (path) => files.get(path), headers }
}
