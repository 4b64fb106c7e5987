import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext()
  await t.seedSession('personal', { state: 'open', ownNumber: '628100000000' })
})
afterEach(() => t.close())

const save = (input: unknown, sessionId = 'personal') =>
  t.json(`/api/sessions/${sessionId}/audiences`, 'POST', input)

describe('saved audiences', () => {
  it('are saved, listed, used by a send and deleted', async () => {
    const res = await save({ name: 'Close friends', numbers: '628200000001, +628200000002,628200000001' })
    expect(res.status).toBe(201)
    const audience = (await body(res)).data
    expect(audience).toMatchObject({
      audienceId: expect.stringMatching(/^aud_[a-f0-9]{12}$/),
      name: 'Close friends',
      size: 2,
      numbers: ['628200000001', '628200000002'],
    })
    const listed = await body(await t.request('/api/sessions/personal/audiences'))
    expect(listed.data).toEqual([audience])

    const sent = await t.json('/api/sessions/personal/send-status', 'POST', {
      type: 'text',
      content: 'For friends',
      audienceId: audience.audienceId,
    })
    expect(sent.status).toBe(200)
    expect(t.connector.commandsNamed('status.send')[0]?.input.targetNumbers).toEqual([
      '628200000001',
      '628200000002',
    ])

    const deleted = await t.request(`/api/sessions/personal/audiences/${audience.audienceId}`, {
      method: 'DELETE',
    })
    expect(await body(deleted)).toEqual({
      success: true,
      data: { audienceId: audience.audienceId, message: 'Audience deleted' },
    })
    expect((await body(await t.request('/api/sessions/personal/audiences'))).data).toEqual([])
  })

  it('refuses bad input with the usual messages', async () => {
    const cases: [unknown, string][] = [
      [{ name: '', numbers: '628200000001' }, 'name must not be empty'],
      [{ name: 'x', numbers: '' }, 'numbers must name at least one number'],
      [
        { name: 'x', numbers: '12' },
        'numbers: "12" is not a valid phone number (10-15 digits including the country code)',
      ],
    ]
    for (const [input, error] of cases) {
      const res = await save(input)
      expect(res.status, error).toBe(400)
      expect(await body(res)).toEqual({ success: false, error })
    }
    expect((await save({ name: 'x', numbers: '628200000001' }, 'nobody')).status).toBe(404)
    const both = await t.json('/api/sessions/personal/send-status', 'POST', {
      type: 'text',
      content: 'x',
      targetNumbers: '628200000001',
      audienceId: 'aud_0123456789ab',
    })
    expect(await body(both)).toEqual({ success: false, error: 'Give targetNumbers or audienceId, not both' })
    const unknown = await t.json('/api/sessions/personal/send-status', 'POST', {
      type: 'text',
      content: 'x',
      audienceId: 'aud_0123456789ab',
    })
    expect(unknown.status).toBe(404)
    expect(await body(unknown)).toEqual({ success: false, error: 'Audience not found' })
    const gone = await t.request('/api/sessions/personal/audiences/aud_0123456789ab', { method: 'DELETE' })
    expect(gone.status).toBe(404)
  })

  it('go with their session', async () => {
    await save({ name: 'x', numbers: '628200000001' })
    expect((await t.request('/api/sessions/personal', { method: 'DELETE' })).status).toBe(200)
    expect(await t.repos.audiences.list('personal')).toEqual([])
  })
})
