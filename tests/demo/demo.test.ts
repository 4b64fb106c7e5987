import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CONTACTS, YOUR_PHONE } from './cast.js'
import { READY_LINE, SIMULATION_NOTICE } from './instructions.js'

const run = promisify(execFile)
const repoRoot = resolve(import.meta.dirname, '../..')

/** The `export …` line and the curl commands (continuation lines joined) the demo printed, in order. */
const parseInstructions = (output: string) => {
  const exportLine = output.split('\n').find((line) => line.startsWith('export KEY='))
  const commands = output
    .replace(/ \\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.startsWith('curl '))
  if (!exportLine) throw new Error('no export line printed')
  return {
    exportLine,
    commands,
    env: Object.fromEntries(
      exportLine
        .slice(7)
        .split(' ')
        .map((kv) => kv.split('=')),
    ),
  }
}

/**
 * `npm run demo` as a newcomer uses it: wait for the printed instructions, paste the printed curl
 * commands (filling in the placeholders), then Ctrl-C.
 */
describe('npm run demo', () => {
  let dir: string
  let demo: ChildProcess
  let output = ''
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  const eventually = { timeout: 15_000, interval: 200 }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wst-demo-'))
    // Its own process group, so the test can send SIGINT to all of it the way a terminal's Ctrl-C does.
    demo = spawn('npm', ['run', '--silent', 'demo'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: '0', DEMO_PHONE_PORT: '0', DEMO_DATA_DIR: join(dir, 'demo') },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    demo.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    demo.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    exit = new Promise((resolveExit) => demo.once('exit', (code, signal) => resolveExit({ code, signal })))
  })

  afterAll(async () => {
    if (demo.exitCode === null && demo.signalCode === null) process.kill(-demo.pid!, 'SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('says it is a simulation and its printed commands link, post, view and list viewers', async () => {
    await vi.waitFor(() => expect(output).toContain(READY_LINE), { timeout: 25_000, interval: 100 })
    expect(output).toContain(SIMULATION_NOTICE)
    // The printed dashboard address serves the page.
    const dashboard = /^Dashboard\s+(http:\/\/\S+)/m.exec(output)?.[1]
    expect(dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await fetch(dashboard!)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<div id="app">')
    const { exportLine, commands } = parseInstructions(output)
    const command = (fragment: string) => {
      const found = commands.find((c) => c.includes(fragment))
      if (!found) throw new Error(`no printed command with ${fragment}`)
      return found
    }
    const paste = async (cmd: string, fill: Record<string, string> = {}) => {
      const filled = cmd.replace(/<(\w+)>/g, (placeholder, name: string) => fill[name] ?? placeholder)
      const { stdout } = await run('bash', ['-c', `${exportLine}\n${filled}`])
      return JSON.parse(stdout)
    }

    // 1. pairing code
    expect(await paste(command('"authMethod":"pairing"'))).toMatchObject({ success: true })
    let pairingCode = ''
    await vi.waitFor(async () => {
      pairingCode = (await paste(command('/pairing-code -H "x-api-key'))).data.pairingCode
      expect(pairingCode).toBeTruthy()
    }, eventually)
    expect(await paste(command('$PHONE/accounts/'), { pairingCode })).toMatchObject({
      jid: expect.stringContaining(YOUR_PHONE.phone),
    })

    // 2. QR code, scanned from the image the product shows
    expect(await paste(command('"authMethod":"qrcode"'))).toMatchObject({ success: true })
    await vi.waitFor(
      async () => expect(await paste(command('/demo/scan-qr/'))).toMatchObject({ scanned: true }),
      eventually,
    )

    // 3. both linked
    await vi.waitFor(
      async () => expect((await paste(command('/connection-status'))).data.connected).toBe(true),
      eventually,
    )
    const qrStatus = command('/connection-status').replace('/demo/', '/demo-qr/')
    await vi.waitFor(async () => expect((await paste(qrStatus)).data.connected).toBe(true), eventually)

    // 4. post
    const sent = await paste(command('/send-status'))
    expect(sent).toMatchObject({ success: true, data: { contactCount: CONTACTS.length } })
    const { statusId, waMessageId } = sent.data as { statusId: string; waMessageId: string }

    // 5. the contacts view it, once their devices have it
    await vi.waitFor(async () => {
      for (const contact of CONTACTS) {
        const received = await paste(`curl -s $PHONE/accounts/${contact.phone}/statuses`)
        expect(received.map((s: { id: string }) => s.id)).toContain(waMessageId)
      }
    }, eventually)
    expect(await paste(command('/views/burst'), { waMessageId })).toMatchObject({
      delivered: expect.any(Number),
    })

    // 6. viewers: all three by number, the LID-only one resolved with its LID kept
    await vi.waitFor(async () => {
      const viewers = (await paste(command('/status-viewers/'), { statusId })).data as {
        number: string
        lid: string | null
      }[]
      expect(viewers.map((v) => v.number).sort()).toEqual(CONTACTS.map((c) => c.phone).sort())
      const lidOnly = CONTACTS.find((c) => c.view.asLid)
      expect(viewers.find((v) => v.number === lidOnly?.phone)?.lid).toMatch(/@lid$/)
    }, eventually)
  }, 60_000)

  it('stops the product and the simulator on Ctrl-C', async () => {
    const { env } = parseInstructions(output)
    process.kill(-demo.pid!, 'SIGINT')
    // npm re-raises the signal its script ended on; the demo itself exits 0 after its cleanups.
    expect([
      { code: 0, signal: null },
      { code: null, signal: 'SIGINT' },
    ]).toContainEqual(await exit)
    expect(output).toMatch(/Demo stopped\.\s*$/)
    expect(output).not.toContain('cleanup failed')
    await expect(fetch(`${env.API}/health`)).rejects.toThrow()
    await expect(fetch(`${env.PHONE}/accounts`)).rejects.toThrow()
  })

  it('gives up with a message when the product cannot start (its port is taken by a silent server)', async () => {
    const squatter = createServer() // accepts connections and never answers HTTP
    await new Promise<void>((resolveListen) => squatter.listen(0, '127.0.0.1', resolveListen))
    const { port } = squatter.address() as AddressInfo
    try {
      const failed = await run('npm', ['run', '--silent', 'demo'], {
        cwd: repoRoot,
        env: { ...process.env, PORT: String(port), DEMO_PHONE_PORT: '0', DEMO_DATA_DIR: join(dir, 'taken') },
        timeout: 25_000,
      }).then(
        () => ({ code: 0, stdout: '', stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      )
      expect(failed.code).toBe(1)
      expect(failed.stderr).toContain('demo: could not start: the product exited (1) before it was ready')
      expect(failed.stdout).toContain('Demo stopped.')
      expect(failed.stdout).not.toContain(SIMULATION_NOTICE)
    } finally {
      squatter.close()
    }
  }, 30_000)
})
