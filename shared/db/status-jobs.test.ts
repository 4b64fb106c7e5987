import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRepositories } from './repositories/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from './test-support.js'
import type { Repositories, StatusJobRecord } from './types.js'

const job = (statusId: string, overrides: Partial<StatusJobRecord> = {}): StatusJobRecord => ({
  sessionId: 'main',
  id: `job_${statusId.padStart(16, '0').slice(-16)}`,
  statusId,
  waMessageId: '3EB0AAAA',
  state: 'running',
  chunkSize: 2,
  recipientsTotal: 3,
  chunks: [
    { size: 2, state: 'sent', attempts: 1, error: null, sentAt: 5 },
    { size: 1, state: 'pending', attempts: 0, error: null, sentAt: null },
  ],
  error: null,
  createdAt: 1,
  updatedAt: 1,
  finishedAt: null,
  ...overrides,
})

describe('status jobs repository', () => {
  let db: TestDatabase
  let repos: Repositories
  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
  })
  afterEach(() => db.cleanup())

  it('stores a job with its chunks, lists the running ones of a session, saves outcomes', async () => {
    const status = await repos.statuses.insert(newStatus({ state: 'pending' }))
    const record = job(status.id)
    await repos.statusJobs.insert(record)
    expect(await repos.statusJobs.get(record.id)).toEqual(record)
    expect(await repos.statusJobs.running('main')).toEqual([record])
    expect(await repos.statusJobs.running('other')).toEqual([])

    const finished: StatusJobRecord = {
      ...record,
      state: 'partial',
      chunks: [record.chunks[0]!, { size: 1, state: 'failed', attempts: 3, error: 'no', sentAt: null }],
      error: 'no',
      updatedAt: 9,
      finishedAt: 9,
    }
    expect(await repos.statusJobs.save(finished)).toBe(true)
    expect(await repos.statusJobs.get(record.id)).toEqual(finished)
    expect(await repos.statusJobs.running('main')).toEqual([])

    await repos.statusJobs.deleteAllForSession('main')
    expect(await repos.statusJobs.get(record.id)).toBeNull()
    expect(await repos.statusJobs.save(finished)).toBe(false)
  })

  it('keeps the status of a running job pending when stale sends are given up on', async () => {
    const old = { createdAt: 1_000, expiresAt: Date.now() + 3_600_000, state: 'pending' as const }
    const withJob = await repos.statuses.insert(newStatus(old))
    const alone = await repos.statuses.insert(newStatus(old))
    const doneJob = await repos.statuses.insert(newStatus(old))
    await repos.statusJobs.insert(job(withJob.id))
    await repos.statusJobs.insert(job(doneJob.id, { state: 'completed' }))

    expect(await repos.statuses.failStalePending(2_000, 'abandoned')).toBe(2)
    expect((await repos.statuses.get('main', withJob.id))?.state).toBe('pending')
    expect((await repos.statuses.get('main', alone.id))?.state).toBe('failed')
    expect((await repos.statuses.get('main', doneJob.id))?.state).toBe('failed')
  })
})
