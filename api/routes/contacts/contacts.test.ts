import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext()
  await t.seedSession('personal', { state: 'open', ownNumber: '628100000000' })
})
afterEach(() => t.close())

const numbers = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ number: String(628200000000 + from + i), name: null }))

describe('synced contacts', () => {
  it('are listed by number, a known name kept when a later sync has none, and paged', async () => {
    await t.repos.contacts.upsertMany(
      'personal',
      [
        { number: '628200000002', name: 'Bea' },
        { number: '628200000001', name: null },
      ],
      1,
    )
    await t.repos.contacts.upsertMany(
      'personal',
      [
        { number: '628200000002', name: null },
        { number: '628200000001', name: 'Adi' },
      ],
      2,
    )
    const listed = await body(await t.request('/api/sessions/personal/contacts'))
    expect(listed).toEqual({
      success: true,
      data: [
        { number: '628200000001', name: 'Adi' },
        { number: '628200000002', name: 'Bea' },
      ],
    })
    const first = await body(await t.request('/api/sessions/personal/contacts?limit=1'))
    expect(first.data).toEqual([{ number: '628200000001', name: 'Adi' }])
    const second = await body(
      await t.request(`/api/sessions/personal/contacts?limit=1&cursor=${first.nextCursor}`),
    )
    expect(second).toMatchObject({ data: [{ number: '628200000002' }], nextCursor: null })
    expect((await t.request('/api/sessions/ghost/contacts')).status).toBe(404)
  })

  it('are the audience of targetNumbers "all", within the send limit', async () => {
    const send = () =>
      t.json('/api/sessions/personal/send-status', 'POST', {
        type: 'text',
        content: 'Hi all',
        targetNumbers: ' ALL ',
      })
    expect(await body(await send())).toEqual({
      success: false,
      error: 'targetNumbers "all": this session has no synced contacts yet',
    })
    await t.repos.contacts.upsertMany('personal', numbers(0, 3), 1)
    expect((await send()).status).toBe(200)
    expect(t.connector.commandsNamed('status.send')[0]?.input.targetNumbers).toEqual([
      '628200000000',
      '628200000001',
      '628200000002',
    ])
    // Above STATUS_JOB_THRESHOLD (1,000) "all" goes out as a job.
    await t.repos.contacts.upsertMany('personal', numbers(3, 998), 1)
    const big = await send()
    expect(big.status).toBe(202)
    expect((await body(big)).data).toMatchObject({ recipientsTotal: 1001, chunksTotal: 3, state: 'running' })
    expect(t.connector.commandsNamed('status.startJob')[0]?.input.targetNumbers).toHaveLength(1001)
    await t.repos.contacts.upsertMany('personal', numbers(1001, 49_000), 1)
    const tooMany = await send()
    expect(tooMany.status).toBe(400)
    expect(await body(tooMany)).toEqual({
      success: false,
      error: 'targetNumbers "all": this session has 50001 contacts, a send reaches at most 50000 numbers',
    })
    // Only "all" is a word here: anything else is still a list of numbers.
    const word = await t.json('/api/sessions/personal/send-status', 'POST', {
      type: 'text',
      content: 'x',
      targetNumbers: 'everyone',
    })
    expect(word.status).toBe(400)
  })
})
