import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRepositories } from './repositories/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from './test-support.js'
import type { Repositories, UploadRecord } from './types.js'

const upload = (filename: string, createdAt: number): UploadRecord => ({
  filename,
  kind: 'image',
  mime: 'image/jpeg',
  size: 3,
  createdAt,
  verified: true,
})

describe('uploads no status uses', () => {
  let db: TestDatabase
  let repos: Repositories
  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
  })
  afterEach(() => db.cleanup())

  const names = (uploads: UploadRecord[]) => uploads.map((u) => u.filename)

  it('lists old unreferenced uploads in filename order, a page at a time', async () => {
    for (const name of ['c.jpg', 'a.jpg', 'e.jpg', 'b.jpg']) await repos.uploads.insert(upload(name, 1_000))
    await repos.uploads.insert(upload('young.jpg', 5_000))
    await repos.uploads.insert(upload('used-sent.jpg', 1_000))
    await repos.uploads.insert(upload('used-pending.jpg', 1_000))
    await repos.statuses.insert(newStatus({ state: 'sent', mediaFilename: 'used-sent.jpg' }))
    // A send still waiting for its ack uses its upload as much as a sent one.
    await repos.statuses.insert(newStatus({ state: 'pending', mediaFilename: 'used-pending.jpg' }))

    expect(names(await repos.uploads.listUnreferenced(2_000, { after: null, limit: 10 }))).toEqual([
      'a.jpg',
      'b.jpg',
      'c.jpg',
      'e.jpg',
    ])
    const first = await repos.uploads.listUnreferenced(2_000, { after: null, limit: 3 })
    expect(names(first)).toEqual(['a.jpg', 'b.jpg', 'c.jpg'])
    expect(names(await repos.uploads.listUnreferenced(2_000, { after: 'c.jpg', limit: 3 }))).toEqual([
      'e.jpg',
    ])
    expect(first[0]).toEqual(upload('a.jpg', 1_000))
    // The age bound is inclusive.
    expect(names(await repos.uploads.listUnreferenced(999, { after: null, limit: 10 }))).toEqual([])
    expect(names(await repos.uploads.listUnreferenced(5_000, { after: null, limit: 10 }))).toContain(
      'young.jpg',
    )
  })

  it('deletes a record only while it is old and unused', async () => {
    await repos.uploads.insert(upload('orphan.jpg', 1_000))
    await repos.uploads.insert(upload('taken.jpg', 1_000))
    await repos.uploads.insert(upload('young.jpg', 5_000))
    // Used between the listing and the delete: the record stays.
    await repos.statuses.insert(newStatus({ mediaFilename: 'taken.jpg' }))

    expect(await repos.uploads.deleteIfUnreferenced('taken.jpg', 2_000)).toBe(false)
    expect(await repos.uploads.deleteIfUnreferenced('young.jpg', 2_000)).toBe(false)
    expect(await repos.uploads.deleteIfUnreferenced('orphan.jpg', 2_000)).toBe(true)
    expect(await repos.uploads.deleteIfUnreferenced('orphan.jpg', 2_000)).toBe(false)
    expect(await repos.uploads.get('orphan.jpg')).toBeNull()
    expect(await repos.uploads.get('taken.jpg')).not.toBeNull()
    expect(await repos.uploads.get('young.jpg')).not.toBeNull()
  })
})

describe('uploads PUT straight to the store', () => {
  let db: TestDatabase
  let repos: Repositories
  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
  })
  afterEach(() => db.cleanup())

  it('records what a checked file turned out to be, and says when the record is gone', async () => {
    await repos.uploads.insert({
      ...upload('clip.mp4', 1_000),
      kind: 'video',
      mime: 'video/mp4',
      verified: false,
    })
    expect(await repos.uploads.get('clip.mp4')).toMatchObject({ verified: false })
    expect(await repos.uploads.markVerified('clip.mp4', { mime: 'video/x-m4v', size: 42 })).toBe(true)
    expect(await repos.uploads.get('clip.mp4')).toMatchObject({
      mime: 'video/x-m4v',
      size: 42,
      verified: true,
    })
    expect(await repos.uploads.markVerified('gone.mp4', { mime: 'video/mp4', size: 1 })).toBe(false)
  })

  it('deletes a refused record only while it is unverified and unused', async () => {
    await repos.uploads.insert({ ...upload('bad.jpg', 1_000), verified: false })
    await repos.uploads.insert({ ...upload('checked.jpg', 1_000), verified: false })
    await repos.uploads.markVerified('checked.jpg', { mime: 'image/jpeg', size: 3 })
    await repos.uploads.insert({ ...upload('used.jpg', 1_000), verified: false })
    await repos.statuses.insert(newStatus({ mediaFilename: 'used.jpg' }))

    expect(await repos.uploads.deleteUnverified('checked.jpg')).toBe(false)
    expect(await repos.uploads.deleteUnverified('used.jpg')).toBe(false)
    expect(await repos.uploads.deleteUnverified('bad.jpg')).toBe(true)
    expect(await repos.uploads.deleteUnverified('bad.jpg')).toBe(false)
    expect(await repos.uploads.get('bad.jpg')).toBeNull()
    expect(await repos.uploads.get('checked.jpg')).not.toBeNull()
  })
})
