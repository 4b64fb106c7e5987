#!/usr/bin/env node
/**
 * Compiles the product's TypeScript to JavaScript under dist/node, one file per source in the same
 * layout, so `npm start` runs plain Node: no TypeScript loader in memory or on the start-up path.
 * Type checking is `npm run typecheck`'s job; this only strips types (esbuild, milliseconds).
 * Then bundles the dashboard into dist/dashboard (infra/build-dashboard.mjs).
 *
 *   node infra/build.mjs             build
 *   node infra/build.mjs --if-stale  build only when a source changed since the last build
 *
 * Runs from `npm ci` (the `prepare` script) and before `npm start`, so a fresh clone and an edited
 * one both start what their sources say.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { buildDashboard, DASHBOARD_SOURCE_DIR } from './build-dashboard.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'node')
const stampFile = join(out, '.build-stamp')

/** What runs under Node; tests, their helpers and the Workers entry (built by wrangler) stay out. */
const SOURCE_DIRS = ['api', 'connector', 'embedded', 'shared']
const EXCLUDED = [/\.test\.ts$/, /test-support\.ts$/, /test-harness\.ts$/, /^api\/worker\.ts$/]

const sources = async (dir, wanted) => {
  const found = []
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...(await sources(path, wanted)))
    else if (wanted(path)) found.push(path)
  }
  return found
}

const isNodeSource = (path) => path.endsWith('.ts') && !EXCLUDED.some((rule) => rule.test(path))
const files = (await Promise.all(SOURCE_DIRS.map((dir) => sources(dir, isNodeSource)))).flat().sort()
const dashboardFiles = (await sources(DASHBOARD_SOURCE_DIR, (path) => !path.endsWith('.test.ts'))).sort()
const inputs = [
  ...files,
  ...dashboardFiles,
  'package.json',
  relative(root, fileURLToPath(import.meta.url)),
  'infra/build-dashboard.mjs',
]
const newest = Math.max(
  ...(await Promise.all(inputs.map(async (file) => (await stat(join(root, file))).mtimeMs))),
)
// The stamp names the inputs too: a deleted or renamed source also means a rebuild.
const stamp = JSON.stringify({ newest, files, dashboardFiles })

if (process.argv.includes('--if-stale')) {
  const previous = await readFile(stampFile, 'utf8').catch(() => null)
  if (previous === stamp) process.exit(0)
}

const started = Date.now()
await rm(out, { recursive: true, force: true })
await build({
  entryPoints: files.map((file) => join(root, file)),
  outdir: out,
  outbase: root,
  format: 'esm',
  platform: 'node',
  // 20.10: import attributes (`with { type: 'json' }`), which esbuild drops for older targets.
  target: 'node20.10',
  bundle: false,
  sourcemap: 'linked',
  logLevel: 'warning',
})
// Sources import package.json (the version) by relative path, and Node takes `"type": "module"`
// for dist/ from the nearest package.json: a copy beside the output serves both.
await mkdir(out, { recursive: true })
await copyFile(join(root, 'package.json'), join(out, 'package.json'))
const dashboard = await buildDashboard(root)
await writeFile(stampFile, stamp)
console.log(
  `built ${files.length} files into ${relative(root, out)} and the dashboard into ${dashboard.dir} in ${Date.now() - started} ms`,
)
