import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { join, resolve } from 'node:path'
import { isMainModule } from '../../shared/node/is-main.js'

/**
 * What must never end up in the Workers bundle, checked on esbuild's metafile (which wrangler
 * writes with `--metafile`): Node-only code, and the AWS SDK's DOMParser-based XML parser. A `node:*` import only makes wrangler warn without `nodejs_compat`, and
 * packages with a browser build (pino, socket.io) bundle without complaint, so the build alone
 * would let either through to fail (or misbehave) at runtime.
 */

export const REPO_ROOT = resolve(import.meta.dirname, '../..')

/** Node-only packages: each has a Web-only counterpart on the Workers path. */
export const FORBIDDEN_PACKAGES = [
  '@whiskeysockets/baileys',
  'busboy',
  '@hono/node-server',
  '@redis/client',
  'redis',
  'pino',
  'socket.io',
  'socket.io-adapter',
  '@socket.io/redis-streams-adapter',
  'ws',
] as const

/** Source folders and files that only Node runs. */
const NODE_ONLY_SOURCES = [/(?:^|\/)shared\/node\//, /(?:^|\/)api\/node\//, /(?:^|\/)api\/node\.ts$/]

interface Metafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>
}

const packageOf = (input: string): string | null => {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
  return match?.[1] ?? null
}

/** Every input or external import of the bundle that breaks the rule above, as readable lines. */
export const bundleViolations = (metafile: Metafile): string[] => {
  const found = new Set<string>()
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    const pkg = packageOf(input)
    if (pkg && (FORBIDDEN_PACKAGES as readonly string[]).includes(pkg)) {
      found.add(`package ${pkg} (${input})`)
    }
    if (!pkg && NODE_ONLY_SOURCES.some((pattern) => pattern.test(input))) {
      found.add(`Node-only source ${input}`)
    }
    // workerd has no DOMParser: this parser fails on S3's first XML answer (see wrangler.toml).
    if (input.endsWith('@aws-sdk/xml-builder/dist-es/xml-parser.browser.js')) {
      found.add(`DOMParser-based XML parser ${input} (the [alias] in wrangler.toml is missing)`)
    }
    for (const imported of imports) {
      // `<runtime>` is esbuild's own helper module, `cloudflare:*` the platform's.
      if (!imported.external || imported.path === '<runtime>') continue
      if (imported.path.startsWith('node:') || isBuiltin(imported.path)) {
        found.add(`Node built-in ${imported.path} (imported by ${input})`)
      }
    }
  }
  return [...found].sort()
}

/** `compatibility_date` and `compatibility_flags` of wrangler.toml, for Miniflare. */
export const wranglerSettings = async (): Promise<{
  compatibilityDate: string
  compatibilityFlags: string[]
  /** `[assets] directory`, absolute. */
  assetsDirectory: string | null
}> => {
  const toml = await readFile(join(REPO_ROOT, 'wrangler.toml'), 'utf8')
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1]
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? ''
  if (!date) throw new Error('wrangler.toml has no compatibility_date')
  const assets = /^\[assets\][^[]*?^directory\s*=\s*"([^"]+)"/ms.exec(toml)?.[1]
  return {
    compatibilityDate: date,
    compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]!),
    assetsDirectory: assets ? join(REPO_ROOT, assets) : null,
  }
}

/** Bundles the worker as `npm run build:worker` does, into `outdir`, with its metafile. */
export const buildWorker = async (outdir: string): Promise<{ scriptPath: string; metafile: Metafile }> => {
  const metafilePath = join(outdir, 'bundle-meta.json')
  const wrangler = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
  const args = [wrangler, 'deploy', '--dry-run', '--outdir', outdir, '--metafile', metafilePath]
  const output = await new Promise<string>((done, fail) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_UPDATE_NOTIFIER: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk
    })
    child.once('error', fail)
    child.once('exit', (code) =>
      code === 0 ? done(text) : fail(new Error(`wrangler exited with ${code}:\n${text}`)),
    )
  })
  if (!output.includes('--dry-run: exiting now')) throw new Error(`unexpected wrangler output:\n${output}`)
  const metafile = JSON.parse(await readFile(metafilePath, 'utf8')) as Metafile
  return { scriptPath: join(outdir, 'worker.js'), metafile }
}

// `tsx tests/workers/bundle-check.ts [metafile]`: the last step of `npm run build:worker`.
if (isMainModule(import.meta.url)) {
  const path = resolve(process.argv[2] ?? join(REPO_ROOT, 'dist', 'worker', 'bundle-meta.json'))
  const violations = bundleViolations(JSON.parse(await readFile(path, 'utf8')) as Metafile)
  if (violations.length) {
    console.error(`The Workers bundle must not contain Node-only code:\n  ${violations.join('\n  ')}`)
    process.exit(1)
  }
  console.log('Workers bundle: no Node-only code')
}
