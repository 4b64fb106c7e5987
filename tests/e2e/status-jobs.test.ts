import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { StatusJobProgress } from '../../shared/events.js'
import { EVENTUALLY, linkByQr, MODES, type Product, startTestbed, type Testbed } from './harness.js'
import { pngImage } from './media-fixtures.js'

/** Small numbers so a handful of simulated contacts make a job of several chunks. */
const JOB_ENV = {
  STATUS_JOB_THRESHOLD: '3',
  STATUS_CHUNK_SIZE: '3',
  STATUS_CHUNK_PAUSE_MS: '0',
  STATUS_CHUNK_RETRY_MS: '0',
  STATUS_RATE_LIMIT_BACKOFF_MS: '300',
  STATUS_CHUNK_ATTEMPTS: '3',
}

interface JobView extends Omit<StatusJobProgress, 'sessionId'> {
  chunks: { index: number; size: number; state: string; attempts: number; error: string | null }[]
  error: string | null
}

const contactPhone = (i: number) => `155500600${String(i).padStart(2, '0')}`

const finishedJob = (product: Product, jobId: string) =>
  vi.waitFor(async () => {
    const job = (await product.api.get<JobView>(`/api/jobs/${jobId}`)).data
    expect(job.state).not.toBe('running')
    return job
  }, EVENTUALLY)

/** A big audience goes out as a job: chunks with one message id, retried with that id, reported per chunk. */
describe.each(MODES)('status jobs (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('sends "all" in chunks of one id, retries refused and rate-limited chunks, dedupes the views', async () => {
    const { sim } = bed
    const contacts = Array.from({ length: 7 }, (_, i) => sim.createAccount({ phone: contactPhone(i) }))
    const owner = sim.createAccount({
      phone: '15550060100',
      addressBook: contacts.map((contact) => ({ phone: contact.phone })),
    })
    const product = await bed.startProduct({ env: JOB_ENV })
    await linkByQr(product, sim, { sessionId: 'big', phone: owner.phone })
    await vi.waitFor(async () => {
      expect((await product.api.get<unknown[]>('/api/sessions/big/contacts')).data).toHaveLength(7)
    }, EVENTUALLY)

    // Chunk 1 is refused once, then rate limited, then accepted; chunks 0 and 2 go through.
    sim.queueStatusAcks(owner.phone, ['ok', { error: 479 }, { error: 429 }, 'ok', 'ok'])
    const since = product.events.mark()
    const started = await product.api.post<{ jobId: string; waMessageId: string; statusId: string }>(
      '/api/sessions/big/send-status',
      { type: 'text', content: 'To everybody I know', targetNumbers: 'all' },
    )
    expect(started).toMatchObject({
      status: 202,
      data: { recipientsTotal: 7, chunksTotal: 3, state: 'running' },
    })
    const { jobId, waMessageId, statusId } = started.data
    const job = await finishedJob(product, jobId)
    expect(job).toMatchObject({
      state: 'completed',
      recipientsSent: 7,
      recipientsFailed: 0,
      chunksSent: 3,
      chunksFailed: 0,
      error: null,
    })
    expect(job.chunks.map(({ size, state, attempts, error }) => ({ size, state, attempts, error }))).toEqual([
      { size: 3, state: 'sent', attempts: 1, error: null },
      { size: 3, state: 'sent', attempts: 3, error: 'WhatsApp rejected the status (error 429)' },
      { size: 1, state: 'sent', attempts: 1, error: null },
    ])

    // Five stanzas, every one with the status's id; together they address each contact, each once per try.
    const stanzas = sim.sentStanzas(owner.phone).filter((stanza) => stanza.id === waMessageId)
    expect(stanzas.map((stanza) => stanza.ack)).toEqual(['ok', { error: 479 }, { error: 429 }, 'ok', 'ok'])
    const addressed = (index: number) =>
      stanzas[index]!.recipients.filter((jid) => !jid.startsWith(owner.phone)).length
    expect([0, 1, 2, 3, 4].map(addressed).every((count) => count > 0)).toBe(true)
    // The 429 held the retry back for STATUS_RATE_LIMIT_BACKOFF_MS (±20 % jitter).
    expect(stanzas[3]!.at - stanzas[2]!.at).toBeGreaterThanOrEqual(240)
    for (const contact of contacts) {
      await vi.waitFor(
        () => expect(sim.receivedStatuses(contact.phone).filter((s) => s.id === waMessageId)).toHaveLength(1),
        EVENTUALLY,
      )
    }

    // Progress after every try, then the verdict; the status is sent to all seven.
    // (The job's row can be read before its last event has crossed the bus: wait for the event.)
    await product.events.waitFor('status-send-progress', {
      sessionId: 'big',
      since,
      where: (p) => p.jobId === jobId && p.state === 'completed',
    })
    const progress = product.events.of('status-send-progress', { sessionId: 'big', since })
    expect(progress.at(-1)).toMatchObject({ jobId, statusId, state: 'completed', recipientsSent: 7 })
    expect(progress.map((p) => p.recipientsSent)).toEqual([...progress.map((p) => p.recipientsSent)].sort())
    await product.events.waitFor('status-sent', { sessionId: 'big', where: (p) => p.statusId === statusId })
    await vi.waitFor(async () => {
      const listed = await product.api.get<{ id: string; state: string; contactCount: number }[]>(
        '/api/sessions/big/sent-statuses',
      )
      expect(listed.data.find((s) => s.id === statusId)).toMatchObject({ state: 'sent', contactCount: 7 })
    }, EVENTUALLY)

    // Views from contacts of different chunks, one of them twice: each viewer listed once.
    for (const contact of [contacts[0]!, contacts[4]!, contacts[6]!, contacts[4]!]) {
      await sim.view(contact.phone, owner.phone, waMessageId)
    }
    await vi.waitFor(async () => {
      const viewers = await product.api.get<{ number: string }[]>(
        `/api/sessions/big/status-viewers/${statusId}`,
      )
      expect(viewers.data.map((v) => v.number).sort()).toEqual(
        [contacts[0]!.phone, contacts[4]!.phone, contacts[6]!.phone].sort(),
      )
    }, EVENTUALLY)

    // Deleted for everyone: the revoke goes out in the same chunks, under one id of its own.
    const revoked = await product.api.delete(`/api/sessions/big/delete-status/${statusId}?forEveryone=true`)
    expect(revoked).toMatchObject({ status: 200, data: { deletedFromWhatsApp: true } })
    const revokes = sim.sentStanzas(owner.phone).filter((stanza) => stanza.edit === '7')
    expect(revokes).toHaveLength(3)
    expect(new Set(revokes.map((stanza) => stanza.id)).size).toBe(1)
    for (const contact of contacts) {
      await vi.waitFor(() => {
        const got = sim.receivedStatuses(contact.phone)
        expect(got.filter((s) => s.kind === 'revoke' && s.revokedId === waMessageId)).toHaveLength(1)
      }, EVENTUALLY)
    }
  })

  it('reports a chunk WhatsApp keeps refusing: partial, with who was not reached', async () => {
    const { sim } = bed
    const contacts = Array.from({ length: 7 }, (_, i) => sim.createAccount({ phone: contactPhone(20 + i) }))
    const owner = sim.createAccount({ phone: '15550060200' })
    const product = await bed.startProduct({ env: JOB_ENV })
    await linkByQr(product, sim, { sessionId: 'partial', phone: owner.phone })
    sim.queueStatusAcks(owner.phone, ['ok', { error: 463 }, { error: 463 }, { error: 463 }, 'ok'])
    const started = await product.api.post<{ jobId: string; waMessageId: string; statusId: string }>(
      '/api/sessions/partial/send-status',
      { type: 'text', content: 'Most of you', targetNumbers: contacts.map((c) => c.phone).join(',') },
    )
    expect(started.status).toBe(202)
    const job = await finishedJob(product, started.data.jobId)
    expect(job).toMatchObject({
      state: 'partial',
      recipientsSent: 4,
      recipientsFailed: 3,
      chunksFailed: 1,
      error: 'WhatsApp rejected the status (error 463)',
    })
    expect(job.chunks[1]).toMatchObject({ state: 'failed', attempts: 3 })
    await vi.waitFor(() => {
      const reached = contacts.filter((contact) =>
        sim.receivedStatuses(contact.phone).some((s) => s.id === started.data.waMessageId),
      )
      // The chunk refused three times reached nobody: the three in the middle.
      expect(reached.map((c) => c.phone)).toEqual([0, 1, 2, 6].map((i) => contacts[i]!.phone))
    }, EVENTUALLY)
    // In split mode the API's list may lag the connector's write by SPLIT_MAX_AGE_MS.
    await vi.waitFor(async () => {
      const listed = await product.api.get<
        { id: string; state: string; contactCount: number; error: string }[]
      >('/api/sessions/partial/sent-statuses')
      expect(listed.data.find((s) => s.id === started.data.statusId)).toEqual(
        expect.objectContaining({
          state: 'sent',
          contactCount: 4,
          error: '3 of 7 recipients not reached: WhatsApp rejected the status (error 463)',
        }),
      )
    }, EVENTUALLY)
  })

  it('uploads an image once for all the chunks; every contact decrypts the same bytes', async () => {
    const { sim } = bed
    const contacts = Array.from({ length: 5 }, (_, i) => sim.createAccount({ phone: contactPhone(60 + i) }))
    const owner = sim.createAccount({ phone: '15550060400' })
    const product = await bed.startProduct({ env: JOB_ENV })
    await linkByQr(product, sim, { sessionId: 'pictures', phone: owner.phone })
    const png = await pngImage('a picture for many')
    const filename = await product.api.upload('image', png, 'many.png')
    const uploadsBefore = sim.mediaStore.uploads.size
    const started = await product.api.post<{ jobId: string; waMessageId: string }>(
      '/api/sessions/pictures/send-status',
      {
        type: 'image',
        content: filename,
        caption: 'For all of you',
        targetNumbers: contacts.map((c) => c.phone).join(','),
      },
    )
    expect(started).toMatchObject({ status: 202, data: { chunksTotal: 2 } })
    expect(await finishedJob(product, started.data.jobId)).toMatchObject({
      state: 'completed',
      chunksSent: 2,
    })
    expect(sim.mediaStore.uploads.size - uploadsBefore).toBe(1)
    for (const contact of contacts) {
      const status = await vi.waitFor(() => {
        const found = sim.receivedStatuses(contact.phone).find((s) => s.id === started.data.waMessageId)
        expect(found).toBeDefined()
        return found!
      }, EVENTUALLY)
      expect(status).toMatchObject({ kind: 'image', caption: 'For all of you' })
      expect((await sim.statusMedia(status)).equals(png)).toBe(true)
    }
  })
})

/** The connector's restart leaves a job `running`; the session's next open sends the rest. */
describe('status jobs across a restart (embedded)', () => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode: 'embedded' })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('resumes a job across a restart, with the same message id', async () => {
    const { sim } = bed
    const contacts = Array.from({ length: 7 }, (_, i) => sim.createAccount({ phone: contactPhone(40 + i) }))
    const owner = sim.createAccount({ phone: '15550060300' })
    // A long pause after the first chunk: the product stops while the job waits for the second.
    const first = await bed.startProduct({ env: { ...JOB_ENV, STATUS_CHUNK_PAUSE_MS: '600000' } })
    await linkByQr(first, sim, { sessionId: 'resume', phone: owner.phone })
    const started = await first.api.post<{ jobId: string; waMessageId: string }>(
      '/api/sessions/resume/send-status',
      { type: 'text', content: 'Across a restart', targetNumbers: contacts.map((c) => c.phone).join(',') },
    )
    expect(started.status).toBe(202)
    const { jobId, waMessageId } = started.data
    await vi.waitFor(async () => {
      expect((await first.api.get<JobView>(`/api/jobs/${jobId}`)).data.chunksSent).toBe(1)
    }, EVENTUALLY)
    await first.stop()

    const second = await bed.startProduct({ dataDir: first.dataDir, env: JOB_ENV })
    const job = await finishedJob(second, jobId)
    expect(job).toMatchObject({ state: 'completed', recipientsSent: 7, chunksSent: 3 })
    expect(job.chunks.map((chunk) => chunk.attempts)).toEqual([1, 1, 1])
    const stanzas = sim.sentStanzas(owner.phone).filter((stanza) => stanza.id === waMessageId)
    expect(stanzas).toHaveLength(3)
    for (const contact of contacts) {
      await vi.waitFor(
        () => expect(sim.receivedStatuses(contact.phone).filter((s) => s.id === waMessageId)).toHaveLength(1),
        EVENTUALLY,
      )
    }
  })
})

/** In split mode the connector taking a session over finishes its job, same id. */
describe('status jobs when their connector leaves (split)', () => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode: 'split' })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('is finished by the connector that takes the session over', async () => {
    const { sim } = bed
    const contacts = Array.from({ length: 5 }, (_, i) => sim.createAccount({ phone: contactPhone(80 + i) }))
    const owner = sim.createAccount({ phone: '15550060500' })
    // The pause after the first chunk outlasts the test: only a takeover sends the second.
    const product = await bed.startProduct({ env: { ...JOB_ENV, STATUS_CHUNK_PAUSE_MS: '600000' } })
    await linkByQr(product, sim, { sessionId: 'moving', phone: owner.phone })
    const started = await product.api.post<{ jobId: string; waMessageId: string }>(
      '/api/sessions/moving/send-status',
      { type: 'text', content: 'Wherever it runs', targetNumbers: contacts.map((c) => c.phone).join(',') },
    )
    expect(started.status).toBe(202)
    const { jobId, waMessageId } = started.data
    await vi.waitFor(async () => {
      expect((await product.api.get<JobView>(`/api/jobs/${jobId}`)).data.chunksSent).toBe(1)
    }, EVENTUALLY)
    const holderId = (
      await product.api.get<{ connectorId: string }>('/api/sessions/moving/connection-status')
    ).data.connectorId
    const holder = product.connectors.find((c) => c.connectorId === holderId)
    expect(holder).toBeDefined()
    await holder!.stop()

    const job = await vi.waitFor(
      async () => {
        const view = (await product.api.get<JobView>(`/api/jobs/${jobId}`)).data
        expect(view.state).toBe('completed')
        return view
      },
      { ...EVENTUALLY, timeout: 30_000 },
    )
    expect(job).toMatchObject({ recipientsSent: 5, chunksSent: 2 })
    const other = product.connectors.find((c) => c.connectorId !== holderId)!
    await vi.waitFor(async () => {
      const status = await product.api.get<{ connectorId: string }>('/api/sessions/moving/connection-status')
      expect(status.data.connectorId).toBe(other.connectorId)
    }, EVENTUALLY)
    expect(sim.sentStanzas(owner.phone).filter((stanza) => stanza.id === waMessageId)).toHaveLength(2)
    for (const contact of contacts) {
      await vi.waitFor(
        () => expect(sim.receivedStatuses(contact.phone).filter((s) => s.id === waMessageId)).toHaveLength(1),
        EVENTUALLY,
      )
    }
  })
})
