import { type ChildProcess, execFile, spawn } from 'node:child_process'
import {
  cp,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * `npm start` runs compiled JavaScript: `prestart` compiles only when a source changed, `start` is
 * plain `node` on the output. The build runs in a temporary copy of the sources: the repository's
 * own dist/ may be in use by other processes while this runs.
 */

const ROOT = process.cwd()
const SOURCE_DIRS = ['api', 'connector', 'dashboard', 'embedded', 'shared']
const run = promisify(execFile)

let copy: string
const build = async (...args: string[]) =>
  (await run(process.execPath, [join(copy, 'infra', 'build.mjs'), ...args], { cwd: copy })).stdout
const entry = () => join(copy, 'dist', 'node', 'embedded', 'main.js')
const mtime = async (path: string) => (await stat(path)).mtimeMs

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'compiled-start-'))
  await Promise.all([
    ...SOURCE_DIRS.map((dir) => cp(join(ROOT, dir), join(copy, dir), { recursive: true })),
    cp(join(ROOT, 'infra', 'build.mjs'), join(copy, 'infra', 'build.mjs')),
    cp(join(ROOT, 'infra', 'build-dashboard.mjs'), join(copy, 'infra', 'build-dashboard.mjs')),
    cp(join(ROOT, 'package.json'), join(copy, 'package.json')),
    symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir'),
  ])
  await build()
})

afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true })
})

describe('npm start', () => {
  it('compiles first when stale, then runs the output with plain node and no TypeScript loader', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(scripts.prestart).toBe('node infra/build.mjs --if-stale')
    expect(scripts.start).toBe('node dist/node/embedded/main.js')
  })

  it('skips the build when nothing changed since the stamp', async () => {
    const before = await mtime(entry())
    expect(await build('--if-stale')).toBe('')
    expect(await mtime(entry())).toBe(before)
  })

  it('rebuilds when a source is newer than the stamp', async () => {
    const source = join(copy, 'embedded', 'main.ts')
    const later = new Date(Date.now() + 60_000)
    await utimes(source, later, later)
    expect(await build('--if-stale')).toMatch(/^built \d+ files into dist\/node/)
    expect(await build('--if-stale')).toBe('')
  })

  it('rebuilds when a source is added or removed, and drops the removed output', async () => {
    const added = join(copy, 'shared', 'added-for-test.ts')
    await writeFile(added, 'export const added = 1\n')
    // An old mtime: only the changed file list can tell the build it is stale.
    await utimes(added, new Date(0), new Date(0))
    expect(await build('--if-stale')).toMatch(/^built/)
    const output = join(copy, 'dist', 'node', 'shared', 'added-for-test.js')
    expect(await readFile(output, 'utf8')).toContain('added = 1')
    await unlink(added)
    expect(await build('--if-stale')).toMatch(/^built/)
    await expect(stat(output)).rejects.toThrow()
  })

  it('emits JavaScript that imports no TypeScript', async () => {
    const files = (await readdir(join(copy, 'dist', 'node'), { recursive: true })).filter((f) =>
      f.endsWith('.js'),
    )
    expect(files).toContain(join('embedded', 'main.js'))
    expect(files.some((f) => f.endsWith('.test.js'))).toBe(false)
    for (const file of files) {
      const code = await readFile(join(copy, 'dist', 'node', file), 'utf8')
      expect(code, file).not.toMatch(/from\s+['"][^'"]+\.ts['"]|import\(\s*['"][^'"]+\.ts['"]/)
    }
  })

  it('serves GET /api/health from the compiled entry under plain node', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'compiled-start-data-'))
    let child: ChildProcess | undefined
    try {
      child = spawn(process.execPath, [entry()], {
        cwd: copy,
        env: {
          PATH: process.env.PATH ?? '',
          DATA_DIR: dataDir,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk
          const found = output.match(/REST API: (http:\/\/\S+)\/api/)
          if (found?.[1]) resolve(found[1])
        }
        child?.stdout?.on('data', onData)
        child?.stderr?.on('data', onData)
        child?.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)))
      })
      const response = await fetch(`${url}/api/health`)
      expect(response.status).toBe(200)
    } finally {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
