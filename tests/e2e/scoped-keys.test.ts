import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import {
  ApiClient,
  EVENTUALLY,
  EventRecorder,
  linkByQr,
  MODES,
  startTestbed,
  type Testbed,
} from './harness.js'

/** A key limited to one session and to read + send, over REST and Socket.IO, in both modes. */
describe.each(MODES)('scoped API keys (%s)', (mode) => {
  let bed: Testbed
  const recorders: EventRecorder[] = []

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    for (const recorder of recorders.splice(0)) recorder.close()
    await bed?.close()
  })

  it("sends and reads within its session only, hears only its session's events, and stops when revoked", async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550030001' })
    const contact = sim.createAccount({ phone: '15550030002' })
    const product = await bed.startProduct()
    await linkByQr(product, sim, { sessionId: 'mine', phone: owner.phone })
    expect(
      (
        await product.api.post('/api/sessions', {
          sessionId: 'theirs',
          sessionName: 'Theirs',
          authMethod: 'qrcode',
        })
      ).status,
    ).toBe(201)

    const created = await product.api.post<{ keyId: string; key: string }>('/api/keys', {
      name: 'Campaign tool',
      scopes: ['send'],
      sessionIds: ['mine'],
    })
    expect(created.status).toBe(201)
    const scoped = new ApiClient(product.api.baseUrl, created.data.key)
    const events = await EventRecorder.connect(product.api.baseUrl, created.data.key)
    recorders.push(events)

    const listed = await scoped.get<{ sessionId: string }[]>('/api/sessions')
    expect(listed.data.map((s) => s.sessionId)).toEqual(['mine'])
    const sent = await scoped.post<{ statusId: string; waMessageId: string }>(
      '/api/sessions/mine/send-status',
      {
        type: 'text',
        content: 'From a scoped key',
        targetNumbers: contact.phone,
      },
    )
    expect(sent.status).toBe(200)
    await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
    await events.waitFor('status-sent', {
      sessionId: 'mine',
      where: (e) => e.statusId === sent.data.statusId,
    })

    // The other session: refused over REST, silent over Socket.IO (the admin key hears it).
    const other = await scoped.post('/api/sessions/theirs/send-status', {
      type: 'text',
      content: 'x',
      targetNumbers: contact.phone,
    })
    expect(other).toMatchObject({ status: 403, error: Messages.keyOtherSession })
    const restart = await scoped.post('/api/sessions/mine/restart')
    expect(restart).toMatchObject({ status: 403, error: 'This API key lacks the "admin" scope' })
    const mark = product.events.mark()
    expect((await product.api.post('/api/sessions/theirs/restart')).status).toBe(200)
    await product.events.waitFor('qr-code', { sessionId: 'theirs', since: mark })
    await sim.view(contact.phone, owner.phone, sent.data.waMessageId)
    await events.waitFor('status-viewers-update', { sessionId: 'mine' })
    expect(events.received.filter((e) => e.payload.sessionId !== 'mine')).toEqual([])

    expect((await product.api.delete(`/api/keys/${created.data.keyId}`)).status).toBe(200)
    // Revoked: at once on the process that revoked it, within 2 s on the others (split mode).
    await vi.waitFor(
      async () => expect((await scoped.get('/api/sessions/mine/sent-statuses')).status).toBe(401),
      {
        timeout: 5_000,
        interval: 100,
      },
    )
    await expect(EventRecorder.connect(product.api.baseUrl, created.data.key)).rejects.toThrow(
      Messages.unauthorized,
    )
  })
})
