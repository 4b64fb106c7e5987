import { describe, expect, it } from 'vitest'
import { fieldOf } from './field-errors.js'
import { formatLeft, parseAudience, reachPercent } from './format.js'
import { parseRoute } from './hooks.js'

describe('parseAudience', () => {
  it('takes numbers as people paste them and flags what is not one', () => {
    expect(parseAudience('628123456789, +62 812-3456-7890\n(62) 811 111 1111;12; abc ,628123456789')).toEqual(
      {
        numbers: ['628123456789', '6281234567890', '628111111111'],
        invalid: ['12', 'abc'],
      },
    )
    expect(parseAudience('  \n , ')).toEqual({ numbers: [], invalid: [] })
  })

  it('keeps the API rule: 10 to 15 digits', () => {
    expect(parseAudience('123456789').invalid).toEqual(['123456789'])
    expect(parseAudience('1234567890123456').invalid).toEqual(['1234567890123456'])
    expect(parseAudience('1234567890,123456789012345').numbers).toHaveLength(2)
  })
})

describe('reach and time left', () => {
  it('is viewers over audience, capped at 100 %, 0 without an audience', () => {
    expect(reachPercent(1, 3)).toBe(33)
    expect(reachPercent(2, 3)).toBe(67)
    expect(reachPercent(5, 3)).toBe(100)
    expect(reachPercent(1, 0)).toBe(0)
  })

  it('counts down to expiry', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(formatLeft('2026-01-01T23:10:30Z', now)).toBe('23 h 10 min left')
    expect(formatLeft('2026-01-01T00:05:00Z', now)).toBe('5 min left')
    expect(formatLeft('2025-12-31T23:59:00Z', now)).toBe('expired')
  })
})

describe('fieldOf', () => {
  const fields = ['sessionId', 'sessionName', 'phoneNumber'] as const
  it('finds the field an API message names', () => {
    expect(fieldOf('phoneNumber must be 10-15 digits including the country code', fields)).toBe('phoneNumber')
    expect(fieldOf('sessionName must not be empty', fields)).toBe('sessionName')
    expect(fieldOf('sessionId may contain only letters, numbers, _ and - (max 64)', fields)).toBe('sessionId')
  })

  it('falls back when the message names none', () => {
    expect(fieldOf('Session already exists', fields, 'sessionId')).toBe('sessionId')
    expect(fieldOf('Too many requests, please try again later', fields)).toBeNull()
  })
})

describe('parseRoute', () => {
  it('reads the views from the location hash', () => {
    expect(parseRoute('')).toEqual({ sessionId: null, statusId: null, creating: false })
    expect(parseRoute('#/new')).toEqual({ sessionId: null, statusId: null, creating: true })
    expect(parseRoute('#/sessions/my%20id')).toEqual({ sessionId: 'my id', statusId: null, creating: false })
    expect(parseRoute('#/sessions/a/statuses/17')).toEqual({
      sessionId: 'a',
      statusId: '17',
      creating: false,
    })
  })
})
