import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { AppError } from '../shared/errors.js'
import { createErrorHandler, describeIssue } from './errors.js'
import type { AppEnv } from './types.js'

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

describe('createErrorHandler', () => {
  const appWith = (error: unknown) => {
    const logged: { data: Record<string, unknown>; message?: string | undefined }[] = []
    const logger = {
      info() {},
      warn() {},
      error: (data: Record<string, unknown>, message?: string) => logged.push({ data, message }),
    }
    const app = new Hono<AppEnv>()
    app.use('*', requestId())
    app.onError(createErrorHandler(logger))
    app.get('/boom', () => {
      throw error
    })
    return { app, logged }
  }

  it('logs an unexpected error under `err` with the request, never its stack by hand', async () => {
    const error = new Error('SQLITE_BUSY: /srv/data/tracker.db')
    const { app, logged } = appWith(error)
    const res = await app.request('/boom', { headers: { 'x-request-id': 'req-1' } })
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ success: false, error: 'Internal server error' })
    expect(logged).toEqual([
      {
        data: { err: error, requestId: 'req-1', method: 'GET', path: '/boom', code: 'internal' },
        message: 'request failed',
      },
    ])
    // Whether a stack reaches the log is the logger's serializer's call (debug level only).
    expect(JSON.stringify(Object.keys(logged[0]!.data))).not.toMatch(/stack/)
  })

  it('does not log errors written for clients', async () => {
    const { app, logged } = appWith(new AppError('conflict', 'Session already exists'))
    const res = await app.request('/boom')
    expect(res.status).toBe(409)
    expect(logged).toEqual([])
  })
})
