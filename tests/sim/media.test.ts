import { execFile } from 'node:child_process'
import { request } from 'node:https'
import { promisify } from 'node:util'
import type { BinaryNode } from '@whiskeysockets/baileys'
import { describe, expect, it, vi } from 'vitest'
import { eventually, linkByQr, useSimulator } from './test-clients.js'

/** A valid 1×1 PNG, so Baileys' thumbnail step has a real image to read. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
)

describe('media statuses against real Baileys', () => {
  const run = useSimulator()

  it('uploads over HTTPS to the media_conn host and contacts decrypt image and caption', async () => {
    const owner = run.sim.createAccount({ phone: '15550004001' })
    const contact = run.sim.createAccount({ phone: '15550004002' })
    const { sock } = await linkByQr(run.sim, owner.phone)
    run.sockets.push(sock)
    const acks: BinaryNode[] = []
    sock.ws.on('CB:ack,class:message', (node: BinaryNode) => acks.push(node))

    const sent = await sock.sendMessage(
      'status@broadcast',
      { image: PNG, caption: 'a caption', mimetype: 'image/png' },
      { statusJidList: [owner.pnJid(), contact.pnJid()] },
    )
    expect(sent!.message?.imageMessage?.url).toMatch(new RegExp(`^https://${run.sim.uploadHost}/v/`))
    await vi.waitFor(() => expect(acks.map((a) => a.attrs.id)).toContain(sent!.key.id), eventually)
    await vi.waitFor(() => expect(run.sim.receivedStatuses(contact.phone)).toHaveLength(1), eventually)
    const status = run.sim.receivedStatuses(contact.phone)[0]!
    expect(status).toMatchObject({ kind: 'image', caption: 'a caption', mimetype: 'image/png' })
    expect(await run.sim.statusMedia(status)).toEqual(PNG)
  })

  it('serves TLS with a certificate only its own CA vouches for', async () => {
    const reject = await new Promise<string>((resolve) => {
      request(`https://${run.sim.uploadHost}/health`, { method: 'GET' }, () => resolve('accepted'))
        .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
        .end()
    })
    expect(reject).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('is trusted by a process started with NODE_EXTRA_CA_CERTS', async () => {
    const probe = `require('node:https').get('https://${run.sim.uploadHost}/nothing', { agent: false }, (res) => console.log(res.statusCode)).on('error', (e) => console.log(e.code))`
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', probe], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: run.sim.caCertPath },
    })
    expect(stdout.trim()).toBe('404')
  })
})
