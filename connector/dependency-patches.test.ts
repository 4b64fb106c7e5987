import { execFile } from 'node:child_process'
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'

/**
 * The patches of pinned dependencies (patches/README.md), applied by `patch-package` on every
 * install. When a pin moves, these fail until its patch is ported to the new version (or dropped).
 */

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const patchPackageBin = join(root, 'node_modules/patch-package/index.js')

interface Patch {
  name: string
  version: string
  file: string
  /** What the patched file holds; `applied` the patch's doing, `pristine` what it replaced. */
  applied: RegExp
  pristine: string
  /** A line beside the patched one, changed to make the file one the patch was not made for. */
  unrelated: [string, string]
}

const PATCHES: Patch[] = [
  {
    name: '@whiskeysockets/baileys',
    version: '7.0.0-rc14',
    file: 'lib/Utils/auth-utils.js',
    applied: /^const txStorage = new AsyncLocalStorage\(\);$/m,
    pristine: '    const txStorage = new AsyncLocalStorage();',
    unrelated: ['const keyQueues = new Map();', 'const keyQueues = new WeakMap();'],
  },
  {
    name: 'protobufjs',
    version: '7.6.6',
    file: 'src/util/minimal.js',
    applied: /^ {4}var fieldMap = Object\.create\(null\);$/m,
    pristine: '    var fieldMap = {};\n',
    unrelated: ['        fieldMap[fieldNames[i]] = 1;', '        fieldMap[fieldNames[i]] = true;'],
  },
]
const patchFileName = (patch: Patch) => `${patch.name.replace('/', '+')}+${patch.version}.patch`

const readJson = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T

/** Runs patch-package in `cwd` as the postinstall does; never throws, returns the exit code. */
const patchPackage = async (cwd: string, args: string[] = []) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [patchPackageBin, '--error-on-fail', ...args], {
      cwd,
      env: { ...process.env, FORCE_COLOR: '0' },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('the dependency patches', () => {
  it('are the ones listed here, applied on every install by a regular dependency', async () => {
    const files = (await readdir(join(root, 'patches'))).filter((name) => name.endsWith('.patch'))
    expect(files.sort()).toEqual(PATCHES.map(patchFileName).sort())
    const manifest = await readJson<{
      dependencies: Record<string, string>
      scripts: Record<string, string>
    }>(join(root, 'package.json'))
    expect(manifest.scripts.postinstall).toBe('patch-package --error-on-fail')
    // A regular dependency: the Docker image installs with --omit=dev and the postinstall runs there.
    expect(manifest.dependencies['patch-package']).toBe('8.0.1')
    // Baileys is pinned directly; protobufjs (Baileys' and libsignal's) by the lockfile.
    expect(manifest.dependencies['@whiskeysockets/baileys']).toBe('7.0.0-rc14')
  })

  for (const patch of PATCHES) {
    it(`${patch.name}: the lockfile and node_modules hold ${patch.version}, patched`, async () => {
      const lock = await readJson<{ packages: Record<string, { version: string }> }>(
        join(root, 'package-lock.json'),
      )
      expect(lock.packages[`node_modules/${patch.name}`]?.version).toBe(patch.version)
      const installed = await readJson<{ version: string }>(
        join(root, 'node_modules', patch.name, 'package.json'),
      )
      expect(installed.version).toBe(patch.version)
      expect(await readFile(join(root, 'node_modules', patch.name, patch.file), 'utf8')).toMatch(
        patch.applied,
      )
    })
  }

  it('Baileys: one storage at module level, none per key store', async () => {
    const source = await readFile(
      join(root, 'node_modules/@whiskeysockets/baileys/lib/Utils/auth-utils.js'),
      'utf8',
    )
    expect(source.match(/new AsyncLocalStorage\(\)/g)).toHaveLength(1)
    expect(source).toContain('function currentContext()')
  })
})

describe('patch-package with these patches', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  /** A stand-in project: this package.json, the patches, each package's manifest and patched file. */
  const fakeInstall = async () => {
    dir = await mkdtemp(join(tmpdir(), 'patches-'))
    await copyFile(join(root, 'package.json'), join(dir, 'package.json'))
    await cp(join(root, 'patches'), join(dir, 'patches'), { recursive: true })
    for (const patch of PATCHES) {
      const from = join(root, 'node_modules', patch.name)
      const to = join(dir, 'node_modules', patch.name)
      await mkdir(dirname(join(to, patch.file)), { recursive: true })
      await copyFile(join(from, 'package.json'), join(to, 'package.json'))
      await copyFile(join(from, patch.file), join(to, patch.file))
    }
    return dir
  }
  const fileIn = (project: string, patch: Patch) => join(project, 'node_modules', patch.name, patch.file)

  it('takes the patches out and puts them back to the same bytes', async () => {
    const project = await fakeInstall()
    const patched = await Promise.all(PATCHES.map((patch) => readFile(fileIn(project, patch), 'utf8')))
    expect((await patchPackage(project, ['--reverse'])).code).toBe(0)
    for (const [i, patch] of PATCHES.entries()) {
      const pristine = await readFile(fileIn(project, patch), 'utf8')
      expect(pristine).not.toBe(patched[i])
      expect(pristine).toContain(patch.pristine)
    }
    const applied = await patchPackage(project)
    expect(applied.code).toBe(0)
    for (const [i, patch] of PATCHES.entries()) {
      expect(applied.stdout).toContain(`${patch.name}@${patch.version}`)
      expect(await readFile(fileIn(project, patch), 'utf8')).toBe(patched[i])
    }
  })

  for (const patch of PATCHES) {
    it(`stops the install when ${patch.name}'s file is not the one its patch was made for`, async () => {
      const project = await fakeInstall()
      await patchPackage(project, ['--reverse'])
      const pristine = await readFile(fileIn(project, patch), 'utf8')
      const [line, changed] = patch.unrelated
      expect(pristine).toContain(line)
      await writeFile(fileIn(project, patch), pristine.replace(line, changed))
      const result = await patchPackage(project)
      expect(result.code).toBe(1)
      expect(`${result.stdout}${result.stderr}`).toContain(`Failed to apply patch for package ${patch.name}`)
    })
  }
})
