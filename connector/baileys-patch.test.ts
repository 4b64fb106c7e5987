import { execFile } from 'node:child_process'
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'

/**
 * The patch of the pinned Baileys (patches/README.md), applied by `patch-package` on every install.
 * When the pin moves, these fail until the patch is ported to the new version (or dropped).
 */

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const PATCH = '@whiskeysockets+baileys+7.0.0-rc14.patch'
const PATCHED_FILE = 'node_modules/@whiskeysockets/baileys/lib/Utils/auth-utils.js'
const patchPackageBin = join(root, 'node_modules/patch-package/index.js')

const patchFiles = async () =>
  (await readdir(join(root, 'patches'))).filter((name) => name.endsWith('.patch'))

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

describe('the Baileys patch', () => {
  it('is for the exact version package.json pins and node_modules holds', async () => {
    expect(await patchFiles()).toEqual([PATCH])
    const pinned = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      scripts: Record<string, string>
    }
    expect(pinned.dependencies['@whiskeysockets/baileys']).toBe('7.0.0-rc14')
    const require = createRequire(import.meta.url)
    const installed = JSON.parse(
      await readFile(join(dirname(require.resolve('@whiskeysockets/baileys')), '..', 'package.json'), 'utf8'),
    ) as { version: string }
    expect(installed.version).toBe('7.0.0-rc14')
    // Applied on every install.
    expect(pinned.scripts.postinstall).toBe('patch-package --error-on-fail')
    // A regular dependency: the Docker image installs with --omit=dev and the postinstall runs there.
    expect(pinned.dependencies['patch-package']).toBe('8.0.1')
  })

  it('is applied to the installed Baileys', async () => {
    const source = await readFile(join(root, PATCHED_FILE), 'utf8')
    // One storage at module level, none created per key store.
    expect(source.match(/new AsyncLocalStorage\(\)/g)).toHaveLength(1)
    expect(source).toMatch(/^const txStorage = new AsyncLocalStorage\(\);$/m)
    expect(source).toContain('function currentContext()')
  })
})

describe('patch-package with this patch', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  /** A stand-in project: this package.json, the patch, Baileys' manifest and the patched file. */
  const fakeInstall = async () => {
    dir = await mkdtemp(join(tmpdir(), 'patches-'))
    const packageDir = join(dir, 'node_modules/@whiskeysockets/baileys')
    await mkdir(join(packageDir, 'lib/Utils'), { recursive: true })
    await copyFile(join(root, 'package.json'), join(dir, 'package.json'))
    await cp(join(root, 'patches'), join(dir, 'patches'), { recursive: true })
    await copyFile(
      join(root, 'node_modules/@whiskeysockets/baileys/package.json'),
      join(packageDir, 'package.json'),
    )
    await copyFile(join(root, PATCHED_FILE), join(dir, PATCHED_FILE))
    return { root: dir, file: join(dir, PATCHED_FILE) }
  }

  it('takes the patch out and puts it back to the same bytes', async () => {
    const install = await fakeInstall()
    const patched = await readFile(install.file, 'utf8')
    expect((await patchPackage(install.root, ['--reverse'])).code).toBe(0)
    const pristine = await readFile(install.file, 'utf8')
    expect(pristine).not.toBe(patched)
    expect(pristine).toContain('    const txStorage = new AsyncLocalStorage();')

    const applied = await patchPackage(install.root)
    expect(applied.code).toBe(0)
    expect(applied.stdout).toContain('@whiskeysockets/baileys@7.0.0-rc14')
    expect(await readFile(install.file, 'utf8')).toBe(patched)
  })

  it('stops the install when the file is not the one the patch was made for', async () => {
    const install = await fakeInstall()
    await patchPackage(install.root, ['--reverse'])
    const pristine = await readFile(install.file, 'utf8')
    await writeFile(
      install.file,
      pristine.replace('const keyQueues = new Map();', 'const keyQueues = new WeakMap();'),
    )
    const result = await patchPackage(install.root)
    expect(result.code).toBe(1)
    expect(`${result.stdout}${result.stderr}`).toMatch(
      /Failed to apply patch for package @whiskeysockets\/baileys/,
    )
  })
})
