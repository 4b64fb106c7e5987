import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { createLogger, withoutAbsolutePaths } from './logger.js'

const capture = (level: Parameters<typeof createLogger>[0]) => {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger(level, { write: (line: string) => lines.push(JSON.parse(line)) })
  return { logger, lines }
}

/** A real system error, with the `path`, `syscall` and stack Node gives it. */
const enoent = async () => {
  try {
    await readFile('/srv/wa-tracker/data/media/1730000000000-ab12cd34.jpg')
  } catch (error) {
    return error as NodeJS.ErrnoException
  }
  throw new Error('expected ENOENT')
}

describe('logger err serializer', () => {
  it('below debug keeps type, message without absolute paths and code, and drops the stack', async () => {
    const { logger, lines } = capture('info')
    const error = await enoent()
    logger.error({ err: error }, 'removing expired media failed')
    const err = lines[0]?.err as Record<string, unknown>
    expect(err).toEqual({
      type: 'Error',
      message: "ENOENT: no such file or directory, open '1730000000000-ab12cd34.jpg'",
      code: 'ENOENT',
    })
    expect(JSON.stringify(lines[0])).not.toContain('/srv/')
  })

  it('keeps a custom error class name and strips paths from non-Error values', () => {
    const { logger, lines } = capture('warn')
    class StorageError extends Error {}
    logger.warn({ err: new StorageError('cannot open /var/lib/app/tracker.db') }, 'a')
    logger.error({ err: 'failed at file:///home/me/app/connector/main.ts:12:3' }, 'b')
    logger.error({ err: { reason: 7 } }, 'c')
    expect(lines[0]?.err).toEqual({ type: 'StorageError', message: 'cannot open tracker.db' })
    expect(lines[1]?.err).toBe('failed at main.ts:12:3')
    expect(lines[2]?.err).toEqual({ reason: 7 })
  })

  it.each(['debug', 'trace'] as const)('at %s keeps the standard serializer (stack, path)', async (level) => {
    const { logger, lines } = capture(level)
    const error = await enoent()
    logger.error({ err: error }, 'x')
    const err = lines[0]?.err as Record<string, unknown>
    expect(err.stack).toBe(error.stack)
    expect(err.path).toBe('/srv/wa-tracker/data/media/1730000000000-ab12cd34.jpg')
    expect(err.message).toBe(error.message)
  })

  it('follows a level changed at runtime', () => {
    const { logger, lines } = capture('info')
    logger.level = 'debug'
    logger.error({ err: new Error('boom') }, 'x')
    logger.level = 'info'
    logger.error({ err: new Error('boom') }, 'y')
    expect(lines[0]?.err).toHaveProperty('stack')
    expect(lines[1]?.err).not.toHaveProperty('stack')
  })

  it('child loggers (sessions, Baileys) use it too', () => {
    const { logger, lines } = capture('info')
    logger.child({ module: 'baileys' }, { level: 'warn' }).warn({ err: new Error('at /opt/x/y.js') }, 'z')
    expect(lines[0]?.err).toEqual({ type: 'Error', message: 'at y.js' })
  })
})

describe('withoutAbsolutePaths', () => {
  it.each([
    ["EACCES: permission denied, mkdir '/data/media'", "EACCES: permission denied, mkdir 'media'"],
    ['Cannot find module /app/a/b.js imported from /app/c.ts', 'Cannot find module b.js imported from c.ts'],
    ['open C:\\Users\\me\\data\\tracker.db', 'open tracker.db'],
    ['path=/home/u/data/api-key', 'path=api-key'],
    ['(/tmp/x/)', '(x)'],
  ])('%s', (input, output) => {
    expect(withoutAbsolutePaths(input)).toBe(output)
  })

  it.each([
    'connect ECONNREFUSED 127.0.0.1:9',
    'GET ws://127.0.0.1:9/ws/chat failed',
    'https://example.com/a/b returned 404',
    'relative data/media/x.jpg stays',
    'and/or 1/2',
  ])('leaves %s alone', (input) => {
    expect(withoutAbsolutePaths(input)).toBe(input)
  })
})
