import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

/**
 * What a connector keeps in memory must leave V8's root map of object literals room for new
 * transitions (connector/dictionaries.ts, patches/README.md). Each case runs
 * tests/support/shape-probe.ts in a process of its own, with V8's test natives, and reads whether
 * 500 more transitions still fit after a full collection. The controls show the probe can tell.
 */
const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const probe = async (scenario: string): Promise<boolean> => {
  const { stdout } = await run(
    process.execPath,
    ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx', 'tests/support/shape-probe.ts', scenario],
    { cwd: root },
  )
  return (JSON.parse(stdout) as { room: boolean }).room
}

describe('V8 object shapes of a connector process', () => {
  it('controls: an empty process has room, 2,000 live objects keyed by distinct names fill it', async () => {
    expect(await probe('fresh')).toBe(true)
    expect(await probe('filled')).toBe(false)
  })

  it('importing Baileys leaves room (the protobufjs patch: oneof field maps are dictionaries)', async () => {
    expect(await probe('baileys')).toBe(true)
  })

  it('2,000 cached Signal session records leave room; kept as they come they fill it', async () => {
    expect(await probe('key-cache')).toBe(true)
    expect(await probe('raw-cache')).toBe(false)
  })
})
