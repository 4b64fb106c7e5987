import pino, { type DestinationStream, type Logger } from 'pino'
import type { Config } from '../config.js'

/**
 * Absolute filesystem paths inside a message: POSIX (`/a/b`, also in `file:///a/b` URLs) and
 * Windows (`C:\a\b`). A POSIX path must start the text or follow a space, quote, bracket, `=` or
 * `,`, so URLs like `ws://host/path` (where `/` follows `:`) are left alone.
 */
const ABSOLUTE_PATH = /(?:file:\/\/|(?<=^|[\s'"`(=[,]))(?:\/[^\s'"`()[\]{},:;/]+)+\/?|[A-Za-z]:\\[^\s'"`]+/g

const lastSegment = (path: string) => {
  const parts = path.split(/[\\/]+/).filter(Boolean)
  return parts.at(-1) ?? path
}

/** The message with every absolute path cut to its last segment (`…/data/media/x.jpg` → `x.jpg`). */
export const withoutAbsolutePaths = (text: string): string =>
  text.replace(ABSOLUTE_PATH, (path) => lastSegment(path))

const isErrorLike = (value: unknown): value is Error =>
  typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string'

/**
 * The `err` serializer below debug: type, message and code only. Stacks and the extra properties
 * Node puts on system errors (`path`, `dest`) show where the product is installed and how it is laid
 * out, which an operator's log shipper or a shared log view should not carry; the short form still
 * says what failed and why.
 */
export const briefError = (value: unknown): unknown => {
  if (typeof value === 'string') return withoutAbsolutePaths(value)
  if (!isErrorLike(value)) return value
  const className = value.constructor?.name
  const brief: { type: string; message: string; code?: string | number } = {
    type:
      className && className !== 'Object' ? className : typeof value.name === 'string' ? value.name : 'Error',
    message: withoutAbsolutePaths(value.message),
  }
  const code = (value as { code?: unknown }).code
  if (typeof code === 'string' || typeof code === 'number') brief.code = code
  return brief
}

const VERBOSE_LEVELS = new Set(['debug', 'trace'])

/**
 * The product's logger. Redaction is a safety net: code never passes message content, media, keys or
 * credentials to it, and these paths catch the common names if something ever does. `destination` is
 * for tests; the product logs to stdout.
 */
export const createLogger = (level: Config['LOG_LEVEL'], destination?: DestinationStream): Logger => {
  // Read at serialisation time, so a level changed at runtime (to debug a problem) brings stacks back.
  let root: Logger | undefined
  const serializeErr = (value: unknown) =>
    root && VERBOSE_LEVELS.has(root.level) ? pino.stdSerializers.err(value as Error) : briefError(value)
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    serializers: { err: serializeErr },
    redact: {
      paths: [
        'apiKey',
        '*.apiKey',
        'headers["x-api-key"]',
        'headers.authorization',
        'content',
        '*.content',
        'caption',
        '*.caption',
        'creds',
        '*.creds',
        'keys',
        '*.keys',
      ],
      censor: '[redacted]',
    },
  }
  root = destination ? pino(options, destination) : pino(options)
  return root
}

export type { Logger }
