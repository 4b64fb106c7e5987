import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { CommandInput } from '../shared/commands.js'
import { createRepositories } from '../shared/db/index.js'
import { openTestDatabase, type TestDatabase } from '../shared/db/test-support.js'
import type { Repositories, ScheduledStatusRecord } from '../shared/db/types.js'
import { AppError } from '../shared/errors.js'
import { StatusScheduler } from './status-scheduler.js'

const NOW = 1_750_000_000_000
const DAY = 86_400_000

let db: TestDatabase | undefined
afterEach(async () => {
  await db?.cleanup()
  db = undefined
})

const scheduled = (overrides: Partial<ScheduledStatusRecord> = {}): ScheduledStatusRecord => ({
  sessionId: 's',
  id: `sch_${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`,
  sendAt: NOW - 1000,
  request: { type: 'text', content: 'later', targetNumbers: ['15550000001'] },
  repeat: 'none',
  state: 'scheduled',
  lastStatusId: null,
  lastError: null,
  sentCount: 0,
  createdAt: NOW - DAY,
  updatedAt: NOW - DAY,
  ...overrides,
})

const setup = async (
  send: (input: CommandInput<'status.send'>) => Promise<{ statusId: string }>,
  now = () => NOW,
) => {
  db = await openTestDatabase()
  const repos: Repositories = createRepositories(db.client)
  const make = (holds: boolean) =>
    new StatusScheduler({
      repos,
      logger: pino({ level: 'silent' }),
      now,
      graceMs: 60_000,
      stuckAfterMs: 600_000,
      pollMs: 60_000,
      holds: () => holds,
      send,
    })
  return { repos, make }
}

const settle = async (scheduler: StatusScheduler) => {
  await scheduler.runOnce()
  await scheduler.stop()
}

describe('StatusScheduler', () => {
  it('sends a due status once, however many connectors look at the same time', async () => {
    const sent: CommandInput<'status.send'>[] = []
    const { repos, make } = await setup(async (input) => {
      sent.push(input)
      return { statusId: '1750000000001' }
    })
    const record = scheduled()
    await repos.scheduled.insert(record)
    await repos.scheduled.insert(scheduled({ sendAt: NOW + 60_000 }))
    const [a, b] = [make(true), make(true)]
    await Promise.all([a.runOnce(), b.runOnce()])
    await Promise.all([a.stop(), b.stop()])
    expect(sent).toEqual([{ sessionId: 's', type: 'text', content: 'later', targetNumbers: ['15550000001'] }])
    expect(await repos.scheduled.get('s', record.id)).toMatchObject({
      state: 'done',
      sentCount: 1,
      lastStatusId: '1750000000001',
    })
  })

  it('leaves a due send to the connector holding the session, and marks it missed past the grace', async () => {
    const { repos, make } = await setup(async () => ({ statusId: 'x' }))
    const waiting = scheduled({ sendAt: NOW - 30_000 })
    const late = scheduled({ sendAt: NOW - 61_000 })
    await repos.scheduled.insert(waiting)
    await repos.scheduled.insert(late)
    await settle(make(false))
    expect((await repos.scheduled.get('s', waiting.id))?.state).toBe('scheduled')
    expect(await repos.scheduled.get('s', late.id)).toMatchObject({ state: 'missed', sentCount: 0 })
  })

  it('moves a repeat to its next time ahead, sent or not, and fails a one-off WhatsApp refused', async () => {
    const { repos, make } = await setup(async (input) => {
      if (input.content === 'refused')
        throw new AppError('unavailable', 'WhatsApp rejected the status (error 479)')
      return { statusId: 'daily-1' }
    })
    const daily = scheduled({ repeat: 'daily', sendAt: NOW - 1000 })
    const missedWeekly = scheduled({ repeat: 'weekly', sendAt: NOW - 3 * DAY })
    const refused = scheduled({ request: { type: 'text', content: 'refused', targetNumbers: [] } })
    for (const record of [daily, missedWeekly, refused]) await repos.scheduled.insert(record)
    await settle(make(true))
    expect(await repos.scheduled.get('s', daily.id)).toMatchObject({
      state: 'scheduled',
      sendAt: daily.sendAt + DAY,
      sentCount: 1,
      lastStatusId: 'daily-1',
    })
    expect(await repos.scheduled.get('s', missedWeekly.id)).toMatchObject({
      state: 'scheduled',
      sendAt: missedWeekly.sendAt + 7 * DAY,
      sentCount: 0,
      lastError: 'Missed: nothing could send it in time',
    })
    expect(await repos.scheduled.get('s', refused.id)).toMatchObject({
      state: 'failed',
      lastError: 'WhatsApp rejected the status (error 479)',
    })
  })

  it('never sends again what a dead connector left mid-send', async () => {
    const sent: string[] = []
    const { repos, make } = await setup(async (input) => {
      sent.push(input.content)
      return { statusId: 'x' }
    })
    const stuck = scheduled({ state: 'sending', updatedAt: NOW - 601_000 })
    await repos.scheduled.insert(stuck)
    await settle(make(true))
    expect(sent).toEqual([])
    expect(await repos.scheduled.get('s', stuck.id)).toMatchObject({
      state: 'failed',
      lastError: 'The connector stopped while sending it; it may have been posted, so it is not sent again',
    })
  })
})
