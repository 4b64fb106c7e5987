import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

/** `npm start` as a user runs it: the real entry point in its own process. */
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx')

const run = (env: Record<string, string>, until: (out: string) => boolean) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(TSX, ['connector/main.ts'], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const check = () => {
      if (until(stdout)) child.kill('SIGTERM')
    }
    child.stdout.on('data', (d) => {
      stdout += d
      check()
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })

describe('npm start entry', () => {
  let dataDir: string
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'main-'))
  })
  afterEach(() => rm(dataDir, { recursive: true, force: true }))

  it('stops on a bad configuration with a message naming the variable', async () => {
    const result = await run({ DATA_DIR: dataDir, PORT: 'not-a-port', MAX_UPLOAD_MB: '-3' }, () => false)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('Invalid configuration: PORT')
    expect(result.stderr).toContain('Invalid configuration: MAX_UPLOAD_MB')
  })

  it('prints a generated API key once, then exits cleanly on SIGTERM', async () => {
    const first = await run({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, (out) =>
      out.includes('docs:'),
    )
    expect(first.code).toBe(0)
    const stored = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim()
    expect(first.stdout).toContain(`API key (generated, stored in ${join(dataDir, 'api-key')}): ${stored}`)

    const second = await run({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, (out) =>
      out.includes('docs:'),
    )
    expect(second.code).toBe(0)
    expect(second.stdout).not.toContain(stored)
    expect(second.stdout).toContain('API key: stored in')
  })
})
