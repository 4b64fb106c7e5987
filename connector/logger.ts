import pino, { type Logger } from 'pino'
import type { Config } from '../shared/config.js'

/**
 * The product's logger. Redaction is a safety net: code never passes message content, media, keys or
 * credentials to it, and these paths catch the common names if something ever does.
 */
export const createLogger = (level: Config['LOG_LEVEL']): Logger =>
  pino({
    level,
    base: undefined,
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
  })

export type { Logger }
