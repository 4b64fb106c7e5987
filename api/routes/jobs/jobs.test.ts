import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  // A small threshold: five numbers are a big audience here.
  t = await createTestContext({ env: { STATUS_JOB_THRESHOLD: '4' } })
  await t.seedSession('a', { state: 'open', ownNumber: '628100000001' })
  await t.seedSession('b', { state: 'open', ownNumber: '628100000002' })
})
afterEach(() => t.close())

const numbers = (count: number) => Array.from({ length: count }, (_, i) => String(628200000000 + i)).join(',')

const startJob = async (sessionId: string) => {
  const res = await t.json(`/api/sessions/${sessionId}/send-status`, 'POST', {
    type: 'text',
    content: 'To many',
    targetNumbers: numbers(5),
  })
  expect(res.status).toBe(202)
  return (await body(res)).data as { jobId: string; statusId: string; waMessageId: string }
}

describe('status jobs', () => {
  it('start above STATUS_JOB_THRESHOLD with 202 and read back from GET /api/jobs/{jobId}', async () => {
    // At the threshold a send is still one stanza, answered when acknowledged.
    const small = await t.json('/api/sessions/a/send-status', 'POST', {
      type: 'text',
      content: 'To few',
      targetNumbers: numbers(4),
    })
    expect(small.status).toBe(200)

    const started = await startJob('a')
    expect(started).toEqual({
      jobId: expect.stringMatching(/^job_[a-f0-9]{16}$/),
      statusId: expect.any(String),
      waMessageId: expect.any(String),
      recipientsTotal: 5,
      chunksTotal: 1,
      state: 'running',
      message: 'Sending to 5 contacts in 1 chunks',
    })
    expect(t.connector.commandsNamed('status.startJob')[0]?.input).toMatchObject({
      sessionId: 'a',
      type: 'text',
      content: 'To many',
    })
    const res = await t.request(`/api/jobs/${started.jobId}`)
    expect(res.status).toBe(200)
    expect((await body(res)).data).toEqual({
      jobId: started.jobId,
      sessionId: 'a',
      statusId: started.statusId,
      waMessageId: started.waMessageId,
      state: 'running',
      recipientsTotal: 5,
      recipientsSent: 0,
      recipientsFailed: 0,
      chunkSize: 500,
      chunksTotal: 1,
      chunksSent: 0,
      chunksFailed: 0,
      chunks: [{ index: 0, size: 5, state: 'pending', attempts: 0, error: null, sentAt: null }],
      error: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      finishedAt: null,
    })
  })

  it("hides another session's job from a scoped key, and checks the id", async () => {
    const mine = await startJob('a')
    const theirs = await startJob('b')
    const created = await t.json('/api/keys', 'POST', { name: 'a only', scopes: ['read'], sessionIds: ['a'] })
    const key = (await body(created)).data.key as string
    expect((await t.request(`/api/jobs/${mine.jobId}`, { apiKey: key })).status).toBe(200)
    const hidden = await t.request(`/api/jobs/${theirs.jobId}`, { apiKey: key })
    expect(hidden.status).toBe(404)
    expect(await body(hidden)).toEqual({ success: false, error: 'Job not found' })
    expect(await body(await t.request('/api/jobs/job_ffffffffffffffff'))).toEqual({
      success: false,
      error: 'Job not found',
    })
    const bad = await t.request('/api/jobs/nope')
    expect(bad.status).toBe(400)
    expect(await body(bad)).toEqual({ success: false, error: 'jobId is not a job id' })
  })

  it('is refused like a send when the session is not connected, and starts nothing', async () => {
    await t.seedSession('offline', { state: 'qr' })
    const res = await t.json('/api/sessions/offline/send-status', 'POST', {
      type: 'text',
      content: 'To many',
      targetNumbers: numbers(5),
    })
    expect(res.status).toBe(409)
    expect(t.connector.commandsNamed('status.startJob')).toEqual([])
  })
})
