/**
 * Builds the dashboard (dashboard/) into dist/dashboard: one minified script and one stylesheet
 * under assets/ with content hashes in their names (cached for good), index.html pointing at them
 * (never cached without asking), and `_headers`, the page's security headers in the format
 * Cloudflare's static assets read. The Node server reads the same file (shared/node/
 * dashboard-assets.ts), so both runtimes send the same policy.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join, relative } from 'node:path'
import { build } from 'esbuild'

/**
 * The page loads only its own script and styles (no inline code, so no 'unsafe-inline'). Images
 * are QR data URLs, local previews (blob:) and the media of url statuses (any https host); Socket.IO
 * and presigned S3 uploads may live on other origins (split deployments), hence the open
 * connect-src. Framing is refused, as for the API.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https:",
  "media-src 'self' blob: https:",
  "connect-src 'self' http: https: ws: wss:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Besides the policy: those of the docs page (api/middleware/response-frame.ts, PAGE_HEADERS). */
const PAGE_HEADERS = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=15552000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
}

export const DASHBOARD_SOURCE_DIR = 'dashboard'

export const buildDashboard = async (root) => {
  const out = join(root, 'dist', 'dashboard')
  await rm(out, { recursive: true, force: true })
  const result = await build({
    entryPoints: [join(root, DASHBOARD_SOURCE_DIR, 'src', 'main.tsx')],
    outdir: join(out, 'assets'),
    entryNames: 'app-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last few years; nothing older is worth shipping polyfills for.
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(root, DASHBOARD_SOURCE_DIR, 'tsconfig.json'),
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  })
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file))
  const script = outputs.find((file) => file.endsWith('.js'))
  const style = outputs.find((file) => file.endsWith('.css'))
  if (!script || !style) throw new Error('dashboard build made no script or no stylesheet')
  const template = await readFile(join(root, DASHBOARD_SOURCE_DIR, 'index.html'), 'utf8')
  const page = template
    .replace('<!-- style -->', `<link rel="stylesheet" href="/assets/${style}">`)
    .replace('<!-- script -->', `<script type="module" src="/assets/${script}"></script>`)
  await writeFile(join(out, 'index.html'), page)
  const headerLines = Object.entries(PAGE_HEADERS).map(([name, value]) => `  ${name}: ${value}`)
  await writeFile(
    join(out, '_headers'),
    ['/*', ...headerLines, '/assets/*', '  Cache-Control: public, max-age=31536000, immutable', ''].join(
      '\n',
    ),
  )
  return { files: [script, style, 'index.html'].length, dir: relative(root, out) }
}
