import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  bytes,
  chunked,
  expectHealthy,
  expectWellFormed,
  type FuzzProduct,
  fixtures,
  LINKED_SESSION,
  linkSession,
  MAX_UPLOAD_MB,
  multipartBody,
  type RawResponse,
  rawRequest,
  startFuzzProduct,
} from './support.js'

/**
 * Property-based requests against every route of the OpenAPI document, over real sockets to the
 * embedded product: bodies derived from each route's schema and then broken (wrong types, missing,
 * extra, duplicate and huge fields, truncated JSON and multipart, wrong content types), requests
 * without or with a wrong key, chunked bodies over the limits, and uploads the client abandons
 * mid-stream. Whatever arrives, the answer is never a 5xx, every error has the one error shape,
 * and the process keeps answering its health check. Fixed seed, bounded runs.
 */

const SEED = 424242
const RUNS_PER_ROUTE = 40

type Json = Record<string, unknown>

interface Operation {
  method: string
  path: string
  op: Json
}

interface Known {
  uploadName: string
  statusId: string
  signedPath: string
  signedQuery: string
  signedType: string
}

let product: FuzzProduct
let doc: Json
let known: Known

const asObject = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {})

beforeAll(async () => {
  product = await startFuzzProduct()
  await linkSession(product)
  const base = product.server.url
  const auth = { 'x-api-key': product.key }
  // The document is public: the fuzzer reads it like any client would.
  doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as Json

  const form = new FormData()
  form.append('image', new Blob([fixtures.png], { type: 'image/png' }), 'a.png')
  const uploaded = await fetch(`${base}/api/upload-image`, { method: 'POST', headers: auth, body: form })
  expect(uploaded.status).toBe(201)
  const uploadName = ((await uploaded.json()) as { filename: string }).filename

  const sent = await fetch(`${base}/api/sessions/${LINKED_SESSION}/send-status`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'text', content: 'seed status' }),
  })
  expect(sent.status).toBe(200)
  const statusId = ((await sent.json()) as { data: { statusId: string } }).data.statusId

  const link = await fetch(`${base}/api/uploads`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'video', contentType: 'video/mp4', size: 64 * 1024 }),
  })
  expect(link.status).toBe(201)
  const signed = new URL(((await link.json()) as { data: { uploadUrl: string } }).data.uploadUrl)
  known = {
    uploadName,
    statusId,
    signedPath: signed.pathname,
    signedQuery: signed.search,
    signedType: 'video/mp4',
  }
}, 60_000)

afterAll(async () => {
  await product?.stop()
})

const operations = (): Operation[] =>
  Object.entries(asObject(doc.paths)).flatMap(([path, item]) =>
    Object.entries(asObject(item)).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      op: asObject(op),
    })),
  )

const isPublic = (op: Json) => Array.isArray(op.security) && op.security.length === 0

// ---- values ---------------------------------------------------------------------------------

const LIMIT = MAX_UPLOAD_MB * 1024 * 1024

const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\t\n', '💥'.repeat(10), '<script>', '../../etc/passwd'),
)

/**
 * Values worth trying for a field, by name: valid ones, mostly, so requests get past validation
 * into the services and the connector, and the edge cases around them. URLs use literal public or
 * private addresses only, so nothing is looked up in DNS or fetched.
 */
const hints = (): Record<string, { valid: unknown[]; invalid: unknown[] }> => ({
  sessionId: {
    valid: ['fresh-1', 'fresh-2', 'fresh-3', LINKED_SESSION],
    invalid: ['x'.repeat(65), 'bad id', ''],
  },
  sessionName: { valid: ['Name', 'Zweites Konto 📱'], invalid: ['', ' ', 'x'.repeat(101)] },
  authMethod: { valid: ['pairing', 'qrcode'], invalid: ['sms', ''] },
  phoneNumber: {
    valid: ['628123456789', ' 628123456789 '],
    invalid: ['+628123456789', '123', '62812345678901234'],
  },
  type: { valid: ['text', 'image', 'video', 'url'], invalid: ['audio', ''] },
  content: {
    valid: ['hello', known.uploadName, 'http://93.184.215.14/a.jpg', 'https://93.184.215.14/clip.mp4'],
    invalid: [
      '1704067200000-abcdef12.png',
      'http://127.0.0.1:3000/api/health',
      'http://[::1]/x',
      'http://user:pw@93.184.215.14/a.jpg',
      'file:///etc/passwd',
      'not a url',
      ' ',
      'a\u0000b',
      'x'.repeat(65_537),
    ],
  },
  caption: { valid: ['caption', ''], invalid: ['a\u0000b', 'x'.repeat(4_097)] },
  targetNumbers: {
    valid: ['', '628123456789', '628123456789, +628987654321,,'],
    invalid: ['12ab', Array.from({ length: 1001 }, (_, i) => String(628100000000 + i)).join(',')],
  },
  backgroundColor: { valid: ['#315575', '#31557580'], invalid: ['red', '#12345'] },
  font: { valid: [0, 1, 10], invalid: [5, 1.5, -1] },
  contentType: {
    valid: ['image/png', 'video/mp4', 'video/webm'],
    invalid: ['text/plain', 'image/png; charset=x', ''],
  },
  size: { valid: [1, 100, 64 * 1024], invalid: [0, -1, 1.5, 2 ** 53, LIMIT + 1] },
})

/** Fields that only make sense together, applied over a generated object that has them all. */
const coherent = (): Json[] => [
  { type: 'text', content: 'hello' },
  { type: 'image', content: known.uploadName },
  { type: 'url', content: 'http://93.184.215.14/a.jpg' },
  { type: 'image', contentType: 'image/png' },
  { type: 'video', contentType: 'video/mp4' },
  { authMethod: 'qrcode' },
  { authMethod: 'pairing', phoneNumber: '628123456789' },
]

/** Values that fit a JSON schema from the document, mixed with the hints for known fields. */
const valueFor = (schema: unknown, name: string | null, depth = 0): fc.Arbitrary<unknown> => {
  const fitted = fitting(asObject(schema), depth)
  const hint = name ? hints()[name] : undefined
  if (!hint) return fitted
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...hint.valid) },
    { weight: 1, arbitrary: fc.constantFrom(...hint.invalid) },
    { weight: 1, arbitrary: fitted },
  )
}

const fitting = (s: Json, depth: number): fc.Arbitrary<unknown> => {
  if (typeof s.$ref === 'string') {
    const target = asObject(asObject(asObject(doc.components).schemas)[s.$ref.split('/').at(-1) ?? ''])
    return depth > 4 ? fc.constant(null) : fitting(target, depth + 1)
  }
  if ('const' in s) return fc.constant(s.const)
  if (Array.isArray(s.enum) && s.enum.length > 0) return fc.constantFrom(...s.enum)
  for (const key of ['anyOf', 'oneOf'] as const) {
    const parts = s[key]
    if (Array.isArray(parts) && parts.length > 0)
      return fc.oneof(...parts.map((p) => fitting(asObject(p), depth + 1)))
  }
  const type = Array.isArray(s.type) ? s.type[0] : s.type
  switch (type) {
    case 'string':
      return anyText
    case 'integer':
      return fc.integer({ min: -10, max: 1_000_000 })
    case 'number':
      return fc.oneof(fc.integer(), fc.double({ noNaN: true }))
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(fitting(asObject(s.items), depth + 1), { maxLength: 3 })
    case 'object': {
      const properties = asObject(s.properties)
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : [])
      const entries = Object.entries(properties)
      if (entries.length === 0)
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 })
      const record = fc.record(
        Object.fromEntries(entries.map(([key, value]) => [key, valueFor(value, key, depth + 1)])),
        { requiredKeys: [...required].filter((key) => key in properties) },
      )
      const fits = coherent().filter((pair) => Object.keys(pair).every((key) => key in properties))
      if (fits.length === 0) return record
      return fc
        .tuple(record, fc.option(fc.constantFrom(...fits), { freq: 4 }))
        .map(([value, pair]) => (pair ? { ...asObject(value), ...pair } : value))
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** A schema-shaped object, then broken in one of the ways clients break requests. */
const jsonText = (schema: unknown): fc.Arbitrary<string> =>
  fitting(asObject(schema), 0).chain((value) => {
    const object = asObject(value)
    const keys = Object.keys(object)
    const key = keys.length > 0 ? fc.constantFrom(...keys) : fc.constant('field')
    return fc.oneof(
      { weight: 4, arbitrary: fc.constant(JSON.stringify(value)) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(key, fc.jsonValue({ maxDepth: 2 }))
          .map(([k, wrong]) => JSON.stringify({ ...object, [k]: wrong })),
      },
      {
        weight: 1,
        arbitrary: key.map((k) => {
          const { [k]: _dropped, ...rest } = object
          return JSON.stringify(rest)
        }),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }))
          .map(([k, v]) => JSON.stringify({ ...object, [k]: v })),
      },
      {
        weight: 2,
        // Duplicate keys: JSON.parse keeps the last one, a different validator might not.
        arbitrary: fc
          .tuple(key, fc.jsonValue({ maxDepth: 1 }))
          .map(([k, v]) => `{${JSON.stringify(k)}:${JSON.stringify(v)},${JSON.stringify(object).slice(1)}`),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(key, fc.constantFrom(70_000, 300_000))
          .map(([k, n]) => JSON.stringify({ ...object, [k]: 'x'.repeat(n) })),
      },
      {
        weight: 2,
        arbitrary: fc
          .nat()
          .map((cut) => JSON.stringify(value).slice(0, cut % Math.max(1, JSON.stringify(value).length))),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '[',
          '{"a":',
          'null',
          '"x"',
          '{}',
          `${'['.repeat(5000)}${']'.repeat(5000)}`,
        ),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    )
  })

const BOUNDARY = 'fuzz-boundary-Qx7'

/** A multipart body with right, wrong and duplicate parts; sometimes cut short. */
const multipartArb = (expected: string): fc.Arbitrary<Uint8Array> => {
  const part = fc.record({
    name: fc.constantFrom(expected, expected, 'file', 'image', 'video', 'note', ''),
    filename: fc.option(fc.constantFrom('a.png', 'clip.mp4', '', 'évil".jpg'), { nil: undefined }),
    type: fc.option(fc.constantFrom('image/png', 'video/mp4', 'application/octet-stream', 'text/plain'), {
      nil: undefined,
    }),
    content: fc.oneof(
      fc.constant(fixtures.png),
      fc.constant(fixtures.mp4),
      fc.constant(fixtures.text),
      fc.uint8Array({ maxLength: 3000 }),
      fc.constant(new Uint8Array()),
    ),
  })
  return fc
    .tuple(
      fc.array(part, { minLength: 0, maxLength: 4 }),
      fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      fc.option(fc.nat(), { freq: 3 }),
    )
    .map(([parts, close, cut]) => {
      const body = multipartBody(BOUNDARY, parts, { close })
      return cut === null ? body : body.subarray(0, cut % (body.byteLength + 1))
    })
}

// ---- requests -------------------------------------------------------------------------------

type Framing = 'length' | 'chunked' | 'abort' | 'over-limit'

interface FuzzCase {
  method: string
  path: string
  auth: 'key' | 'bearer' | 'none' | 'wrong'
  contentType: string | null
  body: Uint8Array | null
  framing: Framing
  cut: number
}

const DESTRUCTIVE = /\/api\/sessions\/\{sessionId\}(\/restart)?$/

const pathArb = ({ method, path }: Operation): fc.Arbitrary<string> => {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '')
  const destructive = (method === 'DELETE' || method === 'POST') && DESTRUCTIVE.test(path)
  const paramValue = (name: string): fc.Arbitrary<string> => {
    const odd = fc.oneof(
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
      fc.constantFrom('%00', '..%2F..', '%E0%A4%A', 'x'.repeat(300), '%20'),
    )
    switch (name) {
      case 'sessionId':
        // Deleting or restarting the linked session would leave nothing connected to fuzz.
        return fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom(
              ...(destructive ? [] : [LINKED_SESSION, LINKED_SESSION]),
              'fresh-1',
              'fresh-2',
              'ghost',
            ),
          },
          { weight: 1, arbitrary: odd },
        )
      case 'statusId':
        return fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(known.statusId, '1', 'x'.repeat(65)) },
          { weight: 1, arbitrary: odd },
        )
      case 'filename':
        return fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom(known.signedPath.split('/').at(-1) ?? '', known.uploadName),
          },
          { weight: 1, arbitrary: odd },
        )
      default:
        return odd
    }
  }
  const query =
    method === 'PUT'
      ? fc.oneof(
          { weight: 3, arbitrary: fc.constant(known.signedQuery) },
          { weight: 1, arbitrary: fc.constant('') },
          {
            weight: 3,
            arbitrary: fc.constantFrom('expires', 'type', 'max', 'sig').chain((param) =>
              fc.oneof(
                fc.constant(known.signedQuery.replace(new RegExp(`${param}=[^&]*`), `${param}=`)),
                fc.constant(known.signedQuery.replace(new RegExp(`&?${param}=[^&]*`), '')),
                fc.constant(`${known.signedQuery}&${param}=1`),
                anyText.map((v) =>
                  known.signedQuery.replace(
                    new RegExp(`${param}=[^&]*`),
                    `${param}=${encodeURIComponent(v)}`,
                  ),
                ),
              ),
            ),
          },
        )
      : fc.constantFrom('', '', '?x=1', '?sessionId=a&sessionId=b')
  return fc
    .tuple(fc.tuple(...names.map(paramValue)), query)
    .map(([values, q]) => names.reduce((p, name, i) => p.replace(`{${name}}`, values[i] ?? ''), path) + q)
}

const caseArb = (operation: Operation): fc.Arbitrary<FuzzCase> => {
  const content = asObject(asObject(operation.op.requestBody).content)
  const jsonSchema = asObject(content['application/json']).schema
  const multipartSchema = asObject(asObject(content['multipart/form-data']).schema)
  const isJson = 'application/json' in content
  const isMultipart = 'multipart/form-data' in content
  const isRaw = 'application/octet-stream' in content
  const expectedField = Object.keys(asObject(multipartSchema.properties))[0] ?? 'file'

  const declared = isJson
    ? 'application/json'
    : isMultipart
      ? `multipart/form-data; boundary=${BOUNDARY}`
      : isRaw
        ? known.signedType
        : null
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant(declared) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        null,
        'text/plain',
        'application/json; charset=utf-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        `multipart/form-data; boundary=${BOUNDARY}`,
        'multipart/form-data; boundary=other-boundary',
        'image/png',
        'application/json',
      ),
    },
  )
  const body: fc.Arbitrary<Uint8Array | null> = fc.oneof(
    {
      weight: 6,
      arbitrary: isJson
        ? jsonText(jsonSchema).map(bytes)
        : isMultipart
          ? multipartArb(expectedField)
          : isRaw
            ? fc.oneof(
                fc.constant(fixtures.mp4),
                fc.constant(fixtures.mp4),
                fc.constant(fixtures.png),
                fc.uint8Array({ maxLength: 2000 }),
                fc.constant(new Uint8Array()),
              )
            : fc.constant(null),
    },
    // Any route may get a body it does not expect, or the kind another route takes.
    {
      weight: 1,
      arbitrary: fc.oneof(multipartArb('image'), jsonText({}).map(bytes), fc.uint8Array({ maxLength: 500 })),
    },
  )
  const takesBody = isJson || isMultipart || isRaw
  const framing = fc.oneof(
    { weight: 8, arbitrary: fc.constant<Framing>('length') },
    { weight: 3, arbitrary: fc.constant<Framing>('chunked') },
    { weight: 2, arbitrary: fc.constant<Framing>('abort') },
    ...(takesBody ? [{ weight: 1, arbitrary: fc.constant<Framing>('over-limit') }] : []),
  )
  return fc.record({
    method: fc.constant(operation.method),
    path: pathArb(operation),
    auth: fc.constantFrom<FuzzCase['auth']>('key', 'key', 'key', 'key', 'bearer', 'none', 'wrong'),
    contentType,
    body,
    framing,
    cut: fc.nat(),
  })
}

/** A body far over every limit (JSON 1 MB, uploads MAX_UPLOAD_MB), as chunks. */
const overLimitPieces = (c: FuzzCase): Uint8Array[] => {
  const filler = new Uint8Array(128 * 1024).fill(0x61)
  const count = Math.ceil((LIMIT * 1.4) / filler.byteLength)
  const head = c.contentType?.startsWith('multipart/')
    ? bytes(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n`)
    : c.contentType?.includes('json')
      ? bytes('{"sessionName":"')
      : fixtures.mp4
  return [head, ...Array.from({ length: count }, () => filler)]
}

const send = async (c: FuzzCase): Promise<RawResponse | null> => {
  const lines = [`${c.method} ${c.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close']
  if (c.auth === 'key') lines.push(`x-api-key: ${product.key}`)
  if (c.auth === 'bearer') lines.push(`Authorization: Bearer ${product.key}`)
  if (c.auth === 'wrong') lines.push('x-api-key: not-the-key-but-long-enough')
  if (c.contentType !== null && (c.body || c.framing === 'over-limit'))
    lines.push(`Content-Type: ${c.contentType}`)
  const body = c.body ?? new Uint8Array()
  switch (c.framing) {
    case 'length':
      if (c.body) lines.push(`Content-Length: ${body.byteLength}`)
      return rawRequest(product.port, { head: lines.join('\r\n'), body: c.body ? [body] : [] })
    case 'chunked': {
      lines.push('Transfer-Encoding: chunked')
      const middle = c.cut % (body.byteLength + 1)
      return rawRequest(product.port, {
        head: lines.join('\r\n'),
        body: chunked([body.subarray(0, middle), body.subarray(middle)]),
      })
    }
    case 'abort': {
      // Part of the body, then the client is gone.
      const useChunked = c.cut % 2 === 0
      lines.push(useChunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.byteLength + 4096}`)
      const sent = body.subarray(0, c.cut % (body.byteLength + 1))
      return rawRequest(product.port, {
        head: lines.join('\r\n'),
        body: useChunked ? chunked([sent], { terminate: false }) : [sent],
        abort: true,
      })
    }
    case 'over-limit':
      lines.push('Transfer-Encoding: chunked')
      return rawRequest(product.port, { head: lines.join('\r\n'), body: chunked(overLimitPieces(c)) })
  }
}

const describeCase = (c: FuzzCase) =>
  `${c.method} ${c.path.slice(0, 120)} auth=${c.auth} type=${c.contentType} framing=${c.framing} body=${
    c.body ? new TextDecoder().decode(c.body.subarray(0, 120)) : 'none'
  }`

const check = async (operation: Operation, c: FuzzCase) => {
  const res = await send(c)
  const what = describeCase(c)
  if (c.framing === 'abort') return
  if (!res) {
    // Only a client still writing when the server answered early and closed may miss the answer.
    expect(c.framing, `no answer: ${what}`).toBe('over-limit')
    return
  }
  expectWellFormed(res, what)
  if (c.framing === 'over-limit' && res.status >= 400) expect(res.headers.connection, what).toBe('close')
  if (!isPublic(operation.op) && (c.auth === 'none' || c.auth === 'wrong')) {
    expect([401, 429], what).toContain(res.status)
  }
  if (res.status >= 300) return
  // A success is the envelope, or (media downloads) one of the types the document names.
  const responses = operation.op.responses as Record<string, { content?: Json }> | undefined
  const documented = Object.keys(responses?.[String(res.status)]?.content ?? {})
  if (documented.includes('application/json') || documented.length === 0) {
    expect(JSON.parse(res.body), what).toMatchObject({ success: true })
  } else {
    const type = res.headers['content-type'] ?? ''
    expect(
      documented.some((pattern) => type.startsWith(pattern.replace('*', ''))),
      `${what}: ${type}`,
    ).toBe(true)
  }
}

describe('every route of the OpenAPI document under fuzzed requests', () => {
  it('covers the whole document', () => {
    expect(operations().length).toBeGreaterThanOrEqual(20)
  })

  it('never answers 5xx, always answers errors as { success: false, error }, and stays up', async () => {
    for (const [index, operation] of operations().entries()) {
      await fc.assert(
        fc.asyncProperty(caseArb(operation), (c) => check(operation, c)),
        { seed: SEED + index, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      )
      await expectHealthy(product)
    }
    await expectHealthy(product)
    // Abandoned uploads leave no temp files behind (their cleanup may finish after the abort).
    await vi.waitFor(async () => {
      const files = await readdir(join(product.dataDir, 'media')).catch(() => [] as string[])
      expect(files.filter((f) => f.endsWith('.part'))).toEqual([])
    })
  }, 120_000)
})
