import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { describeIssue } from './errors.js'

const firstMessage = (schema: z.ZodType, input: unknown) => {
  const result = schema.safeParse(input)
  if (result.success) throw new Error('expected a failure')
  return describeIssue(result.error.issues[0]!)
}

describe('describeIssue', () => {
  const schema = z.object({
    name: z.string().min(1).max(5),
    count: z.number().int(),
    kind: z.enum(['a', 'b']),
    nested: z.object({ flag: z.boolean() }).optional(),
    phone: z.string().regex(/^\d+$/, 'phone must be digits'),
  })
  const valid = { name: 'x', count: 1, kind: 'a', phone: '1' }

  it('names the field in every message', () => {
    expect(firstMessage(schema, { ...valid, name: undefined })).toBe('name is required')
    expect(firstMessage(schema, { ...valid, name: '' })).toBe('name must not be empty')
    expect(firstMessage(schema, { ...valid, name: 'toolong' })).toBe('name must be at most 5 characters')
    expect(firstMessage(schema, { ...valid, count: 'x' })).toBe('count must be a number')
    expect(firstMessage(schema, { ...valid, kind: 'c' })).toBe('kind must be one of: a, b')
    expect(firstMessage(schema, { ...valid, nested: { flag: 1 } })).toBe('nested.flag must be a boolean')
    expect(firstMessage(schema, { ...valid, phone: 'x' })).toBe('phone must be digits')
    expect(firstMessage(schema, [])).toBe('Request body must be a JSON object')
  })
})
