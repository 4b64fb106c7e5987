import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let now = Date.now()
let t: TestContext
beforeEach(async () => {
  now = Date.now()
  t = await createTestContext({ clock: () => now })
  // Not connected: scheduling does not need the session online.
  await t.seedSession('personal', { state: 'closed' })
})
afterEach(() => t.close())

const schedule = (input: Record<string, unknown>) =>
  t.json('/api/sessions/personal/send-status', 'POST', { type: 'text', content: 'Later', ...input })

describe('scheduled statuses', () => {
  it('are stored with 202, listed, and cancelled before they go', async () => {
    const sendAt = new Date(now + 3_600_000).toISOString()
    const res = await schedule({ sendAt, repeat: 'weekly', targetNumbers: '628200000001' })
    expect(res.status).toBe(202)
    const data = (await body(res)).data
    expect(data).toEqual({
      scheduledId: expect.stringMatching(/^sch_[a-f0-9]{12}$/),
      sendAt,
      repeat: 'weekly',
      state: 'scheduled',
      type: 'text',
      sentCount: 0,
      lastStatusId: null,
      lastError: null,
      message: 'Status scheduled',
    })
    // Nothing reached the connector: it sends when the time comes.
    expect(t.connector.commandsNamed('status.send')).toEqual([])
    const stored = await t.repos.scheduled.get('personal', data.scheduledId)
    expect(stored?.request).toEqual({ type: 'text', content: 'Later', targetNumbers: ['628200000001'] })
    const listed = (await body(await t.request('/api/sessions/personal/scheduled-statuses'))).data
    expect(listed.map((s: { scheduledId: string }) => s.scheduledId)).toEqual([data.scheduledId])

    const cancel = () =>
      t.request(`/api/sessions/personal/scheduled-statuses/${data.scheduledId}`, { method: 'DELETE' })
    expect(await body(await cancel())).toEqual({
      success: true,
      data: { scheduledId: data.scheduledId, message: 'Scheduled status cancelled' },
    })
    const again = await cancel()
    expect(again.status).toBe(409)
    expect(await body(again)).toEqual({
      success: false,
      error: 'Only a scheduled status that has not started can be cancelled',
    })
  })

  it('are checked like a send, and need a time ahead', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ sendAt: new Date(now - 1000).toISOString() }, 400, 'sendAt must be in the future'],
      [{ sendAt: 'tomorrow' }, 400, 'sendAt must be an ISO date-time'],
      [{ repeat: 'daily' }, 400, 'repeat needs sendAt'],
      [
        { sendAt: new Date(now + 60_000).toISOString(), repeat: 'hourly' },
        400,
        'repeat must be one of: none, daily, weekly',
      ],
      [
        {
          type: 'image',
          content: '1730000000000-abcdefabcdef.png',
          sendAt: new Date(now + 60_000).toISOString(),
        },
        400,
        'Uploaded file not found',
      ],
    ]
    for (const [input, status, error] of cases) {
      const res = await schedule(input)
      expect(res.status, error).toBe(status)
      expect(await body(res)).toEqual({ success: false, error })
    }
    expect(
      (await t.request('/api/sessions/personal/scheduled-statuses/sch_0123456789ab', { method: 'DELETE' }))
        .status,
    ).toBe(404)
  })
})
