/**
 * The README's client example, run as written (only its import paths pointed at this checkout)
 * against the product and the simulator: the simulated phone scans the QR the example waits on,
 * the two contacts of its audience view the status, and what it prints is checked.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { EVENTUALLY, startTestbed, type Testbed } from '../e2e/harness.js'

const exampleFromReadme = async (): Promise<string> => {
  const readme = await readFile(join(process.cwd(), 'README.md'), 'utf8')
  const block = /<!-- client-example -->\n```ts\n([\s\S]*?)\n```/.exec(readme)?.[1]
  if (!block) throw new Error('README has no client example block')
  return block
}

describe("the README's client example", () => {
  let bed: Testbed
  let dir: string
  let child: ChildProcess | undefined

  beforeEach(async () => {
    bed = await startTestbed({ mode: 'embedded' })
    dir = await mkdtemp(join(tmpdir(), 'client-example-'))
  })

  afterEach(async () => {
    child?.kill('SIGKILL')
    await bed?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('links by QR, posts, reports each view and the reach', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550012001' })
    const contacts = ['919800000001', '919800000002'].map((phone) => sim.createAccount({ phone }))
    const product = await bed.startProduct()
    const example = (await exampleFromReadme()).replaceAll(
      "from './client/",
      `from '${join(process.cwd(), 'client')}/`,
    )
    // .mts: outside the package, a .ts file would be CommonJS, which has no top-level await.
    const file = join(dir, 'example.mts')
    await writeFile(file, example)

    let output = ''
    child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: process.cwd(),
      env: { ...process.env, TRACKER_URL: product.api.baseUrl, KEY: product.apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)))

    // The phone scans the QR the example is waiting on.
    const { qrCode } = await product.events
      .waitFor('qr-code', { sessionId: 'phone' }, 30_000)
      .catch((error) => {
        throw new Error(`${(error as Error).message}; the example printed:\n${output}`)
      })
    await sim.scanQr(decodeQrDataUrl(qrCode), owner.phone)
    await vi.waitFor(() => expect(output).toContain(`connected as +${owner.phone}`), {
      ...EVENTUALLY,
      timeout: 30_000,
    })
    const sent = await product.events.waitFor('status-sent', { sessionId: 'phone' })
    for (const contact of contacts) {
      await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
      await sim.view(contact.phone, owner.phone, sent.waMessageId)
    }
    expect(await exited).toBe(0)
    expect(output).toContain('scan the QR of phone')
    expect(output).toContain('viewed by 919800000001')
    expect(output).toContain('viewed by 919800000002')
    expect(output).toContain('reach 100 %, not viewed: 0')
  }, 90_000)
})
