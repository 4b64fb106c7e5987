import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConfigError, ConfigSchema, loadConfig } from './config.js'

interface Case {
  /** The parsed value when the variable is unset. */
  default: unknown
  /** [environment value, parsed value]; at least one. */
  valid: [string, unknown][]
  /**
   * Values refused with an issue naming the variable, or a reason why none exists (the variable
   * takes any text). Chosen to be invalid on their own, with every other variable at its default.
   */
  invalid: string[] | { none: string }
}

const key = randomBytes(32)

/**
 * Every variable of the schema. A variable added to `ConfigSchema` without a row here fails the
 * first test, so each new setting gets its default, a valid and an invalid value checked.
 */
const CASES: Record<string, Case> = {
  ROLE: {
    default: 'embedded',
    valid: [
      ['embedded', 'embedded'],
      ['api', 'api'],
      ['connector', 'connector'],
    ],
    invalid: ['worker', 'API'],
  },
  PORT: {
    default: 3000,
    valid: [
      ['8080', 8080],
      ['0', 0],
    ],
    invalid: ['not-a-port', '70000', '-1', '3.5'],
  },
  HOST: { default: '0.0.0.0', valid: [['127.0.0.1', '127.0.0.1']], invalid: { none: 'any interface name' } },
  API_KEY: {
    default: undefined,
    valid: [
      ['0123456789abcdef', '0123456789abcdef'],
      ['  0123456789abcdef  ', '0123456789abcdef'],
      ['   ', undefined],
    ],
    invalid: ['short', '123456789012345'],
  },
  DATA_DIR: { default: './data', valid: [['/srv/wa', '/srv/wa']], invalid: [''] },
  LIBSQL_URL: {
    default: undefined,
    valid: [
      ['libsql://db.example.com', 'libsql://db.example.com'],
      [' ', undefined],
    ],
    invalid: { none: 'libSQL accepts many URL forms and reports a bad one itself' },
  },
  LIBSQL_AUTH_TOKEN: {
    default: undefined,
    valid: [['token-1', 'token-1']],
    invalid: { none: 'any token' },
  },
  MAX_UPLOAD_MB: {
    default: 50,
    valid: [
      ['0.5', 0.5],
      ['2048', 2048],
    ],
    invalid: ['0', '-3', '2049', 'big'],
  },
  RATE_LIMIT_MAX: { default: 300, valid: [['10', 10]], invalid: ['0', '1.5', 'many'] },
  RATE_LIMIT_ANON_MAX: { default: 60, valid: [['5', 5]], invalid: ['0', 'x'] },
  RATE_LIMIT_WINDOW_MS: { default: 900_000, valid: [['60000', 60_000]], invalid: ['999'] },
  STATUS_RETENTION_HOURS: { default: 24, valid: [['0.5', 0.5]], invalid: ['0', '-1'] },
  ANALYTICS_HISTORY_DAYS: { default: 365, valid: [['0', 0]], invalid: ['-1', 'forever'] },
  SCHEDULE_GRACE_SECONDS: { default: 900, valid: [['60', 60]], invalid: ['0', 'soon'] },
  CLEANUP_INTERVAL_MS: { default: 300_000, valid: [['1000', 1000]], invalid: ['999'] },
  STATUS_ACK_TIMEOUT_MS: { default: 30_000, valid: [['5000', 5000]], invalid: ['99'] },
  STATUS_PREPARE_TIMEOUT_MS: { default: 60_000, valid: [['1000', 1000]], invalid: ['99'] },
  STATUS_ACK_FINAL_TIMEOUT_MS: { default: 300_000, valid: [['600000', 600_000]], invalid: ['99'] },
  STATUS_JOB_THRESHOLD: { default: 1_000, valid: [['5000', 5_000]], invalid: ['0', 'many'] },
  STATUS_CHUNK_SIZE: { default: 500, valid: [['256', 256]], invalid: ['0'] },
  STATUS_CHUNK_PAUSE_MS: { default: 250, valid: [['0', 0]], invalid: ['-1'] },
  STATUS_CHUNK_ATTEMPTS: { default: 3, valid: [['5', 5]], invalid: ['0'] },
  STATUS_CHUNK_RETRY_MS: { default: 2_000, valid: [['0', 0]], invalid: ['soon'] },
  STATUS_RATE_LIMIT_BACKOFF_MS: { default: 30_000, valid: [['60000', 60_000]], invalid: ['-5'] },
  UPLOAD_URL_TTL_SECONDS: { default: 900, valid: [['60', 60]], invalid: ['9'] },
  ORPHAN_UPLOAD_GRACE_SECONDS: { default: 3600, valid: [['0', 0]], invalid: ['-1'] },
  PUBLIC_URL: {
    default: undefined,
    valid: [['https://tracker.example.com', 'https://tracker.example.com']],
    invalid: ['not a url'],
  },
  TRUST_PROXY: {
    default: false,
    valid: [
      ['true', true],
      ['1', true],
      ['0', false],
    ],
    invalid: ['yes'],
  },
  METRICS_TOKEN: { default: undefined, valid: [['scrape-me', 'scrape-me']], invalid: [] },
  DASHBOARD: { default: true, valid: [['false', false]], invalid: ['maybe'] },
  HTTP_HEADERS_TIMEOUT_MS: { default: 10_000, valid: [['500', 500]], invalid: ['99', 'soon'] },
  HTTP_REQUEST_TIMEOUT_MS: { default: 3_600_000, valid: [['0', 0]], invalid: ['-1'] },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: { default: 5000, valid: [['1000', 1000]], invalid: ['99'] },
  HTTP_BODY_STALL_MS: { default: 15_000, valid: [['500', 500]], invalid: ['99'] },
  HTTP_BODY_MIN_BYTES: { default: 1024, valid: [['1', 1]], invalid: ['0'] },
  HTTP_MAX_CONNECTIONS_PER_IP: { default: 64, valid: [['0', 0]], invalid: ['-1', '1.5'] },
  WA_WS_URL: {
    default: undefined,
    valid: [['ws://127.0.0.1:9/', 'ws://127.0.0.1:9/']],
    invalid: ['not a url'],
  },
  WA_VERSION: {
    default: undefined,
    valid: [
      ['2.3000.1043857760', [2, 3000, 1043857760]],
      ['2,3000,1', [2, 3000, 1]],
    ],
    invalid: ['2.3000', 'latest'],
  },
  WEBHOOK_ALLOWED_HOSTS: {
    default: [],
    valid: [[' Hooks.Internal:8080, 10.0.0.5 ', ['hooks.internal:8080', '10.0.0.5']]],
    invalid: { none: 'any host list' },
  },
  WEBHOOK_MAX_ATTEMPTS: { default: 10, valid: [['1', 1]], invalid: ['0', 'many'] },
  WEBHOOK_RETRY_BASE_MS: { default: 10_000, valid: [['100', 100]], invalid: ['9', '-1'] },
  WEBHOOK_RETRY_MAX_MS: { default: 3_600_000, valid: [['60000', 60_000]], invalid: ['9'] },
  WEBHOOK_TIMEOUT_MS: { default: 10_000, valid: [['500', 500]], invalid: ['99'] },
  WEBHOOK_LOG_DAYS: { default: 7, valid: [['30', 30]], invalid: ['0'] },
  WA_UPLOAD_HOSTS: {
    default: [],
    valid: [[' a.example.com, b.example.com:8443 ,', ['a.example.com', 'b.example.com:8443']]],
    invalid: { none: 'any host list' },
  },
  AUTH_ENCRYPTION_KEY: {
    default: undefined,
    valid: [
      [key.toString('hex'), new Uint8Array(key)],
      [key.toString('base64'), new Uint8Array(key)],
    ],
    invalid: ['abc', randomBytes(16).toString('hex')],
  },
  REDIS_URL: {
    default: undefined,
    valid: [
      ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
      ['rediss://user:pw@redis.example.com:6380/0', 'rediss://user:pw@redis.example.com:6380/0'],
    ],
    invalid: ['http://127.0.0.1:6379', 'localhost:6379'],
  },
  UPSTASH_REDIS_REST_URL: {
    default: undefined,
    valid: [['https://eu1-x.upstash.io', 'https://eu1-x.upstash.io']],
    invalid: ['not a url'],
  },
  UPSTASH_REDIS_REST_TOKEN: {
    default: undefined,
    valid: [['AX1234', 'AX1234']],
    invalid: { none: 'any token' },
  },
  S3_ENDPOINT: {
    default: undefined,
    valid: [['http://127.0.0.1:9000', 'http://127.0.0.1:9000']],
    invalid: ['not a url'],
  },
  S3_PUBLIC_ENDPOINT: {
    default: undefined,
    valid: [['https://media.example.com', 'https://media.example.com']],
    invalid: ['media'],
  },
  S3_REGION: {
    default: 'us-east-1',
    valid: [['eu-west-1', 'eu-west-1']],
    invalid: { none: 'any region name' },
  },
  S3_BUCKET: { default: undefined, valid: [['media', 'media']], invalid: ['A', 'Bad_Bucket'] },
  S3_ACCESS_KEY_ID: { default: undefined, valid: [['AKIA123', 'AKIA123']], invalid: { none: 'any key id' } },
  S3_SECRET_ACCESS_KEY: {
    default: undefined,
    valid: [['s3cr3t', 's3cr3t']],
    invalid: { none: 'any secret' },
  },
  S3_FORCE_PATH_STYLE: {
    default: false,
    valid: [
      ['true', true],
      ['0', false],
    ],
    invalid: ['yes'],
  },
  CONNECTOR_ID: {
    default: undefined,
    valid: [['connector-1', 'connector-1']],
    invalid: ['has space', 'a/b'],
  },
  SESSION_LOGINS_PER_SECOND: { default: 20, valid: [['5', 5]], invalid: ['0', 'fast'] },
  CONNECTOR_MAX_SESSIONS: { default: 1000, valid: [['50', 50]], invalid: ['0', 'lots'] },
  SESSION_LEASE_MS: { default: 15_000, valid: [['3000', 3000]], invalid: ['999', 'long'] },
  LOG_LEVEL: { default: 'info', valid: [['debug', 'debug']], invalid: ['verbose'] },
}

const issuesOf = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).issues
  }
  return []
}

describe('ConfigSchema', () => {
  it('has a test case for every variable', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(ConfigSchema.shape).sort())
  })

  it('defaults every variable when the environment is empty', () => {
    const config = loadConfig({})
    for (const [name, c] of Object.entries(CASES)) {
      expect({ name, value: config[name as keyof typeof config] }).toEqual({ name, value: c.default })
    }
  })

  describe.each(Object.entries(CASES))('%s', (name, c) => {
    // The variable's own rule, alone: rules that span variables (what a ROLE needs) are below.
    it.each(c.valid)('accepts %j', (raw, parsed) => {
      const own = ConfigSchema.pick({ [name]: true } as Record<keyof typeof ConfigSchema.shape, true>)
      expect((own.parse({ [name]: raw }) as Record<string, unknown>)[name]).toEqual(parsed)
    })

    if (Array.isArray(c.invalid)) {
      it.each(c.invalid)('refuses %j with an issue naming it', (raw) => {
        const issues = issuesOf({ [name]: raw })
        expect(issues.length).toBeGreaterThan(0)
        expect(issues.map((i) => i.variable)).toEqual(issues.map(() => name))
        for (const issue of issues) expect(issue.message).not.toBe('')
      })
    } else {
      it(`takes any value (${c.invalid.none})`, () => {
        const own = ConfigSchema.pick({ [name]: true } as Record<keyof typeof ConfigSchema.shape, true>)
        expect(own.safeParse({ [name]: 'anything at all' }).success).toBe(true)
      })
    }
  })

  it('reports every bad variable at once, each by name, in the error message too', () => {
    let error: unknown
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', HTTP_BODY_MIN_BYTES: '0' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const { issues, message } = error as ConfigError
    expect(issues.map((i) => i.variable).sort()).toEqual(['HTTP_BODY_MIN_BYTES', 'LOG_LEVEL', 'PORT'])
    for (const name of ['PORT', 'LOG_LEVEL', 'HTTP_BODY_MIN_BYTES']) expect(message).toContain(`${name}: `)
  })

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ SOMETHING_ELSE: 'x', PATH: '/usr/bin' })).not.toThrow()
  })
})

describe('rules across variables', () => {
  const split = {
    API_KEY: 'a-shared-key-0123456789',
    LIBSQL_URL: 'libsql://db.example.com',
    REDIS_URL: 'redis://127.0.0.1:6379',
    S3_BUCKET: 'media',
    S3_ACCESS_KEY_ID: 'id',
    S3_SECRET_ACCESS_KEY: 'secret',
  }
  const without = (names: string[]) =>
    Object.fromEntries(Object.entries(split).filter(([name]) => !names.includes(name)))
  const variables = (env: Record<string, string>) =>
    issuesOf(env)
      .map((i) => i.variable)
      .sort()

  it('runs embedded with nothing set', () => {
    expect(variables({})).toEqual([])
  })

  it('accepts a complete split configuration for each role', () => {
    expect(variables({ ...split, ROLE: 'api' })).toEqual([])
    expect(variables({ ...split, ROLE: 'connector' })).toEqual([])
  })

  it('names what each split role is missing', () => {
    expect(variables({ ROLE: 'connector' })).toEqual(['API_KEY', 'LIBSQL_URL', 'REDIS_URL', 'S3_BUCKET'])
    expect(variables({ ROLE: 'api' })).toEqual(['API_KEY', 'LIBSQL_URL', 'REDIS_URL', 'S3_BUCKET'])
    expect(variables({ ...without(['S3_ACCESS_KEY_ID']), ROLE: 'api' })).toEqual(['S3_ACCESS_KEY_ID'])
  })

  it('lets the API use Upstash instead of TCP Redis, but a connector needs TCP', () => {
    const upstash = { UPSTASH_REDIS_REST_URL: 'https://x.upstash.io', UPSTASH_REDIS_REST_TOKEN: 't' }
    expect(variables({ ...without(['REDIS_URL']), ...upstash, ROLE: 'api' })).toEqual([])
    expect(variables({ ...without(['REDIS_URL']), ...upstash, ROLE: 'connector' })).toEqual(['REDIS_URL'])
  })

  it('wants the Upstash URL and token together', () => {
    expect(variables({ UPSTASH_REDIS_REST_URL: 'https://x.upstash.io' })).toEqual([
      'UPSTASH_REDIS_REST_TOKEN',
    ])
    expect(variables({ UPSTASH_REDIS_REST_TOKEN: 't' })).toEqual(['UPSTASH_REDIS_REST_URL'])
  })

  it('wants a whole S3 configuration when any of it is set, in embedded mode too', () => {
    expect(variables({ S3_BUCKET: 'media' })).toEqual(['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'])
    expect(variables({ S3_ENDPOINT: 'http://127.0.0.1:9000' })).toEqual([
      'S3_ACCESS_KEY_ID',
      'S3_BUCKET',
      'S3_SECRET_ACCESS_KEY',
    ])
  })
})
