import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Client, createClient, type InValue, type ResultSet, type Transaction } from '@libsql/client'

/**
 * A libSQL server for tests, speaking the Hrana-over-HTTP v2 protocol that `@libsql/client/web`
 * uses (`POST /v2/pipeline`), backed by a real libSQL file. Each stream (one baton) gets its own
 * database connection, as on sqld, so a `batch` runs as one transaction on one connection and
 * concurrent streams contend for the file's write lock for real (WAL + busy timeout).
 *
 * Implemented: execute, batch (with step conditions), sequence, store_sql / close_sql,
 * get_autocommit and close. Not implemented (answered with an error): describe, cursors (v3).
 */

type HranaValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string }

interface HranaStmt {
  sql?: string
  sql_id?: number
  args?: HranaValue[]
  named_args?: { name: string; value: HranaValue }[]
  want_rows?: boolean
}

type HranaCondition =
  | { type: 'ok'; step: number }
  | { type: 'error'; step: number }
  | { type: 'not'; cond: HranaCondition }
  | { type: 'and'; conds: HranaCondition[] }
  | { type: 'or'; conds: HranaCondition[] }
  | { type: 'is_autocommit' }

type HranaRequest =
  | { type: 'execute'; stmt: HranaStmt }
  | { type: 'batch'; batch: { steps: { condition?: HranaCondition | null; stmt: HranaStmt }[] } }
  | { type: 'sequence'; sql?: string; sql_id?: number }
  | { type: 'store_sql'; sql_id: number; sql: string }
  | { type: 'close_sql'; sql_id: number }
  | { type: 'get_autocommit' }
  | { type: 'close' }
  | { type: string }

interface HranaError {
  message: string
  code?: string
}

interface StreamState {
  client: Client
  sql: Map<number, string>
  /**
   * The transaction a `BEGIN` opened on this stream. The local client hands every call a pooled
   * connection and rolls back one that comes back mid-transaction, so a stream's BEGIN … COMMIT
   * runs through one `Transaction` instead.
   */
  tx: Transaction | null
  idleTimer: NodeJS.Timeout | null
  queue: Promise<unknown>
}

/** How long a stream lives without a request before its connection is closed, as on sqld. */
const STREAM_IDLE_MS = 10_000

const toArg = (value: HranaValue): InValue => {
  switch (value.type) {
    case 'null':
      return null
    case 'integer':
      return BigInt(value.value)
    case 'float':
      return value.value
    case 'text':
      return value.value
    case 'blob':
      return Buffer.from(value.base64, 'base64')
  }
}

const fromValue = (value: unknown): HranaValue => {
  if (value === null || value === undefined) return { type: 'null' }
  if (typeof value === 'bigint') return { type: 'integer', value: value.toString() }
  if (typeof value === 'number')
    return Number.isInteger(value) ? { type: 'integer', value: String(value) } : { type: 'float', value }
  if (typeof value === 'string') return { type: 'text', value }
  if (value instanceof ArrayBuffer) return { type: 'blob', base64: Buffer.from(value).toString('base64') }
  if (ArrayBuffer.isView(value))
    return {
      type: 'blob',
      base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    }
  return { type: 'text', value: String(value) }
}

const errorOf = (error: unknown): HranaError => {
  const message = error instanceof Error ? error.message : String(error)
  const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : undefined
  return code ? { message, code } : { message }
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })

const TRANSACTION_START = /^\s*BEGIN\b/i
const TRANSACTION_END = /^\s*(COMMIT|END|ROLLBACK)\b(?!\s+TO)/i

export class LibsqlHttpServer {
  /** Pipeline requests served; tests use it to prove the HTTP path was taken. */
  requests = 0
  private readonly streams = new Map<string, StreamState>()

  private constructor(
    private readonly server: Server,
    private readonly fileUrl: string,
    readonly authToken: string | undefined,
  ) {}

  /** `file` is a libSQL `file:` URL; the same file may be opened by other processes too. */
  static async start(options: { file: string; authToken?: string }): Promise<LibsqlHttpServer> {
    let instance: LibsqlHttpServer | null = null
    const server = createServer((req, res) => {
      void instance?.handle(req, res)
    })
    instance = new LibsqlHttpServer(server, options.file, options.authToken)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return instance
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    for (const baton of [...this.streams.keys()]) this.closeStream(baton)
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && (path === '/v2' || path === '/health')) return send(200, {})
    if (req.method !== 'POST' || path !== '/v2/pipeline') return send(404, { error: 'Not found' })
    if (this.authToken && req.headers.authorization !== `Bearer ${this.authToken}`) {
      return send(401, { error: 'Unauthorized' })
    }
    let body: { baton?: string | null; requests?: HranaRequest[] }
    try {
      body = JSON.parse(await readBody(req))
    } catch {
      return send(400, { error: 'Invalid JSON' })
    }
    this.requests++
    let baton = body.baton ?? null
    let stream: StreamState
    if (baton) {
      const found = this.streams.get(baton)
      if (!found) return send(400, { error: 'Stream not found (expired or closed)' })
      stream = found
    } else {
      baton = randomBytes(12).toString('hex')
      stream = {
        // One connection per stream: a BEGIN and its COMMIT must run on the same one.
        client: createClient({ url: this.fileUrl, intMode: 'bigint', timeout: 5_000, concurrency: 1 }),
        sql: new Map(),
        tx: null,
        idleTimer: null,
        queue: Promise.resolve(),
      }
      this.streams.set(baton, stream)
    }
    if (stream.idleTimer) clearTimeout(stream.idleTimer)
    const run = stream.queue.then(() => this.runPipeline(stream, body.requests ?? []))
    stream.queue = run.catch(() => {})
    const { results, closed } = await run
    if (closed) {
      this.closeStream(baton)
    } else {
      const current = baton
      stream.idleTimer = setTimeout(() => this.closeStream(current), STREAM_IDLE_MS)
      stream.idleTimer.unref()
    }
    send(200, { baton: closed ? null : baton, base_url: null, results })
  }

  private closeStream(baton: string): void {
    const stream = this.streams.get(baton)
    if (!stream) return
    this.streams.delete(baton)
    if (stream.idleTimer) clearTimeout(stream.idleTimer)
    // A transaction left open by a client that went away is rolled back with its connection.
    stream.tx?.close()
    stream.client.close()
  }

  private async runPipeline(stream: StreamState, requests: HranaRequest[]) {
    const results: unknown[] = []
    let closed = false
    for (const request of requests) {
      if (closed) {
        results.push({ type: 'error', error: { message: 'Stream is closed' } })
        continue
      }
      try {
        const response = await this.runRequest(stream, request)
        if (request.type === 'close') closed = true
        results.push({ type: 'ok', response })
      } catch (error) {
        results.push({ type: 'error', error: errorOf(error) })
      }
    }
    return { results, closed }
  }

  private async runRequest(stream: StreamState, request: HranaRequest): Promise<unknown> {
    switch (request.type) {
      case 'execute': {
        const { stmt } = request as Extract<HranaRequest, { type: 'execute' }>
        return { type: 'execute', result: await this.execute(stream, stmt) }
      }
      case 'batch': {
        const { batch } = request as Extract<HranaRequest, { type: 'batch' }>
        const stepResults: unknown[] = []
        const stepErrors: (HranaError | null)[] = []
        const outcomes: ('ok' | 'error' | 'skipped')[] = []
        const holds = (condition: HranaCondition): boolean => {
          switch (condition.type) {
            case 'ok':
              return outcomes[condition.step] === 'ok'
            case 'error':
              return outcomes[condition.step] === 'error'
            case 'not':
              return !holds(condition.cond)
            case 'and':
              return condition.conds.every(holds)
            case 'or':
              return condition.conds.some(holds)
            case 'is_autocommit':
              return stream.tx === null
          }
        }
        for (const step of batch.steps) {
          if (step.condition && !holds(step.condition)) {
            outcomes.push('skipped')
            stepResults.push(null)
            stepErrors.push(null)
            continue
          }
          try {
            stepResults.push(await this.execute(stream, step.stmt))
            stepErrors.push(null)
            outcomes.push('ok')
          } catch (error) {
            stepResults.push(null)
            stepErrors.push(errorOf(error))
            outcomes.push('error')
          }
        }
        return { type: 'batch', result: { step_results: stepResults, step_errors: stepErrors } }
      }
      case 'sequence': {
        const { sql, sql_id: sqlId } = request as Extract<HranaRequest, { type: 'sequence' }>
        const text = sql ?? (sqlId !== undefined ? stream.sql.get(sqlId) : undefined)
        if (text === undefined) throw new Error('SQL text not found')
        await (stream.tx ?? stream.client).executeMultiple(text)
        return { type: 'sequence' }
      }
      case 'store_sql': {
        const { sql_id: sqlId, sql } = request as Extract<HranaRequest, { type: 'store_sql' }>
        stream.sql.set(sqlId, sql)
        return { type: 'store_sql' }
      }
      case 'close_sql': {
        stream.sql.delete((request as Extract<HranaRequest, { type: 'close_sql' }>).sql_id)
        return { type: 'close_sql' }
      }
      case 'get_autocommit':
        return { type: 'get_autocommit', is_autocommit: stream.tx === null }
      case 'close':
        return { type: 'close' }
      default:
        throw new Error(`Request type ${request.type} is not supported by this test server`)
    }
  }

  private async execute(stream: StreamState, stmt: HranaStmt) {
    const sql = stmt.sql ?? (stmt.sql_id !== undefined ? stream.sql.get(stmt.sql_id) : undefined)
    if (sql === undefined) throw new Error('SQL text not found')
    const args: InValue[] | Record<string, InValue> = stmt.named_args?.length
      ? Object.fromEntries(
          stmt.named_args.map(({ name, value }) => [name.replace(/^[:@$]/, ''), toArg(value)]),
        )
      : (stmt.args ?? []).map(toArg)
    const control = await this.transactionControl(stream, sql)
    if (control) return control
    const result: ResultSet = await (stream.tx ?? stream.client).execute({ sql, args })
    const wantRows = stmt.want_rows !== false
    return {
      cols: result.columns.map((name, i) => ({ name, decltype: result.columnTypes[i] || null })),
      rows: wantRows ? result.rows.map((row) => result.columns.map((_, i) => fromValue(row[i]))) : [],
      affected_row_count: result.rowsAffected,
      last_insert_rowid: result.lastInsertRowid === undefined ? null : result.lastInsertRowid.toString(),
    }
  }

  /** BEGIN, COMMIT and ROLLBACK map onto the stream's `Transaction`; null for any other statement. */
  private async transactionControl(stream: StreamState, sql: string) {
    const empty = { cols: [], rows: [], affected_row_count: 0, last_insert_rowid: null }
    if (TRANSACTION_START.test(sql)) {
      if (stream.tx) throw new Error('SQLITE_ERROR: cannot start a transaction within a transaction')
      const mode = /IMMEDIATE|EXCLUSIVE/i.test(sql) ? 'write' : /READONLY/i.test(sql) ? 'read' : 'deferred'
      stream.tx = await stream.client.transaction(mode)
      return empty
    }
    const end = TRANSACTION_END.exec(sql)
    if (!end) return null
    const tx = stream.tx
    const rollback = end[1]?.toUpperCase() === 'ROLLBACK'
    if (!tx) {
      throw new Error(`SQLITE_ERROR: cannot ${rollback ? 'rollback' : 'commit'} - no transaction is active`)
    }
    stream.tx = null
    if (rollback) await tx.rollback()
    else await tx.commit()
    return empty
  }
}
