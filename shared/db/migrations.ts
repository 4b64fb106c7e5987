import type { Client } from '@libsql/client'

export interface Migration {
  /** Positive, strictly increasing; recorded in `schema_migrations` once applied. */
  version: number
  name: string
  statements: string[]
}

/**
 * The schema, as an append-only history: never edit an applied migration, add a new one.
 * Times are epoch milliseconds (INTEGER); booleans are 0/1.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        auth_method TEXT NOT NULL,
        phone_number TEXT,
        state TEXT NOT NULL,
        own_number TEXT,
        own_jid TEXT,
        own_lid TEXT,
        pairing_code TEXT,
        qr_code TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE TABLE wa_auth_creds (
        session_id TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      // WITHOUT ROWID: rows are only ever reached through the composite key, so the key is the table.
      `CREATE TABLE wa_auth_keys (
        session_id TEXT NOT NULL,
        type TEXT NOT NULL,
        id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (session_id, type, id)
      ) WITHOUT ROWID`,
      `CREATE TABLE statuses (
        session_id TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        content TEXT NOT NULL,
        caption TEXT NOT NULL DEFAULT '',
        background_color TEXT,
        font INTEGER,
        target_numbers TEXT NOT NULL DEFAULT '',
        contact_count INTEGER NOT NULL DEFAULT 0,
        wa_message_id TEXT,
        state TEXT NOT NULL,
        error TEXT,
        media_filename TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, id)
      )`,
      // Receipts name the status by its WhatsApp message id.
      'CREATE INDEX statuses_by_wa_message_id ON statuses (session_id, wa_message_id)',
      'CREATE INDEX statuses_by_expiry ON statuses (expires_at)',
      'CREATE INDEX statuses_by_media ON statuses (media_filename) WHERE media_filename IS NOT NULL',
      `CREATE TABLE status_viewers (
        session_id TEXT NOT NULL,
        status_id TEXT NOT NULL,
        jid TEXT NOT NULL,
        number TEXT,
        lid TEXT,
        is_real INTEGER NOT NULL,
        viewed_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, status_id, jid)
      ) WITHOUT ROWID`,
      `CREATE TABLE uploads (
        filename TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      )`,
      `CREATE TABLE lid_map (
        session_id TEXT NOT NULL,
        lid TEXT NOT NULL,
        pn TEXT NOT NULL,
        PRIMARY KEY (session_id, lid)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    name: 'split deployment: session owners, upload verification, command log',
    statements: [
      // The connector holding the session's lease, as the API shows it (`connectorId`).
      'ALTER TABLE sessions ADD COLUMN connector_id TEXT',
      // 0 while an upload went straight to object storage and its bytes were not looked at yet.
      'ALTER TABLE uploads ADD COLUMN verified INTEGER NOT NULL DEFAULT 1',
      // The first outcome of each command that must never run twice (a status send), keyed by
      // the command id: a redelivery after a connector died answers from here.
      `CREATE TABLE command_log (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        reply TEXT,
        created_at INTEGER NOT NULL,
        finished_at INTEGER
      )`,
      'CREATE INDEX command_log_by_age ON command_log (created_at)',
    ],
  },
  {
    version: 3,
    name: 'list indexes, status change versions',
    statements: [
      // GET /api/sessions lists by age: walk an index instead of sorting the table.
      'CREATE INDEX sessions_by_age ON sessions (created_at, id)',
      // sent-statuses: one session's statuses newest first, read backwards off the index.
      'CREATE INDEX statuses_by_session_age ON statuses (session_id, created_at, id)',
      // The retention job's stale pending sends and the stats' last sent status, without a scan.
      'CREATE INDEX statuses_by_state ON statuses (state, created_at)',
      // A number per session that grows with every change to its statuses or viewers, by any
      // process: an API that keeps a session's lists in memory compares it to see whether they are
      // still current (shared/db/read-model.ts). Statuses bump it through the triggers below, so
      // every writer does; viewer batches bump it in the same write (viewers repository), once per
      // session and batch instead of once per row. Rows are never deleted: a number that restarted
      // could match one a reader remembers from before.
      `CREATE TABLE status_versions (
        session_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL
      ) WITHOUT ROWID`,
      ...(['INSERT', 'UPDATE', 'DELETE'] as const).map(
        (event) => `CREATE TRIGGER statuses_versioned_on_${event.toLowerCase()} AFTER ${event} ON statuses
        BEGIN
          INSERT INTO status_versions (session_id, version) VALUES (${event === 'DELETE' ? 'OLD' : 'NEW'}.session_id, 1)
          ON CONFLICT (session_id) DO UPDATE SET version = version + 1;
        END`,
      ),
    ],
  },
  {
    version: 4,
    name: 'analytics history',
    statements: [
      // What analytics need of a status once it expired and left the live tables: when it went
      // out and to whom, and who viewed it when. Kept for ANALYTICS_HISTORY_DAYS.
      `CREATE TABLE status_archive (
        session_id TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        target_numbers TEXT NOT NULL,
        PRIMARY KEY (session_id, id)
      ) WITHOUT ROWID`,
      'CREATE INDEX status_archive_by_age ON status_archive (session_id, created_at)',
      'CREATE INDEX status_archive_by_time ON status_archive (created_at)',
      `CREATE TABLE viewer_archive (
        session_id TEXT NOT NULL,
        status_id TEXT NOT NULL,
        jid TEXT NOT NULL,
        number TEXT,
        viewed_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, status_id, jid)
      ) WITHOUT ROWID`,
      // Daily totals read a session's views by time.
      'CREATE INDEX viewer_archive_by_time ON viewer_archive (session_id, viewed_at)',
    ],
  },
  {
    version: 5,
    name: 'saved audiences',
    statements: [
      // Named lists of numbers a send can use instead of its own targetNumbers.
      `CREATE TABLE audiences (
        session_id TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        numbers TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, id)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 6,
    name: 'scheduled statuses',
    statements: [
      // A send stored for later: the request as validated (JSON), when, how often, and how it went.
      `CREATE TABLE scheduled_statuses (
        session_id TEXT NOT NULL,
        id TEXT NOT NULL,
        send_at INTEGER NOT NULL,
        request TEXT NOT NULL,
        repeat TEXT NOT NULL,
        state TEXT NOT NULL,
        last_status_id TEXT,
        last_error TEXT,
        sent_count INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, id)
      ) WITHOUT ROWID`,
      // The scheduler's question: what is due, or stuck mid-send.
      'CREATE INDEX scheduled_statuses_due ON scheduled_statuses (state, send_at)',
    ],
  },
  {
    version: 7,
    name: 'webhooks',
    statements: [
      // A receiver of events: every session's (session_id NULL) or one session's. The secret signs
      // deliveries, so it is kept as given out (it cannot be a one-way hash).
      `CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        session_id TEXT,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        description TEXT,
        created_at INTEGER NOT NULL
      )`,
      'CREATE INDEX webhooks_session ON webhooks (session_id)',
      // One event for one webhook: the exact body sent (a retry signs the same bytes) and how it went.
      `CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        event TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER,
        last_attempt_at INTEGER,
        response_status INTEGER,
        last_error TEXT,
        redelivery_of TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      )`,
      // The deliverer's question (what is due, whose lease ran out) and the log's (newest first).
      'CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)',
      'CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at, id)',
    ],
  },
  {
    version: 8,
    name: 'scoped api keys',
    statements: [
      // Keys besides the admin key: only a SHA-256 digest of each is kept (they are looked up by
      // it), with a short prefix to recognise them by. session_ids NULL: every session.
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        key_prefix TEXT NOT NULL,
        scopes TEXT NOT NULL,
        session_ids TEXT,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      )`,
    ],
  },
  {
    version: 9,
    name: 'contacts',
    statements: [
      // The account's contacts as the phone's history and contact syncs name them: `"all"` sends
      // to them, GET …/contacts lists them.
      `CREATE TABLE contacts (
        session_id TEXT NOT NULL,
        number TEXT NOT NULL,
        name TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, number)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 10,
    name: 'webhooks can be paused',
    statements: ['ALTER TABLE webhooks ADD COLUMN active INTEGER NOT NULL DEFAULT 1'],
  },
  {
    version: 11,
    name: 'status send jobs',
    statements: [
      // A big audience's chunked send; `chunks` is a JSON array of per-chunk outcomes (a few dozen).
      `CREATE TABLE status_jobs (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        status_id TEXT NOT NULL,
        wa_message_id TEXT NOT NULL,
        state TEXT NOT NULL,
        chunk_size INTEGER NOT NULL,
        recipients_total INTEGER NOT NULL,
        chunks TEXT NOT NULL,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      )`,
      // What a session's connection resumes when it opens.
      'CREATE INDEX status_jobs_session_state ON status_jobs (session_id, state, created_at)',
    ],
  },
]

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`

/**
 * Applies the pending migrations in order, each in one write batch together with its
 * `schema_migrations` row. Safe to run twice and from several processes at once: the row is
 * inserted first, so a process that loses the race fails on its primary key, rolls back, and
 * skips the version the winner applied. Returns the versions this call applied.
 */
export async function migrate(client: Client, list: readonly Migration[] = migrations): Promise<number[]> {
  assertOrdered(list)
  await client.execute(CREATE_MIGRATIONS_TABLE)
  const applied = await appliedVersions(client)
  const appliedNow: number[] = []
  for (const migration of list) {
    if (applied.has(migration.version)) continue
    try {
      await client.batch(
        [
          {
            sql: 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
            args: [migration.version, migration.name, Date.now()],
          },
          ...migration.statements,
        ],
        'write',
      )
      appliedNow.push(migration.version)
    } catch (error) {
      if (!(await appliedVersions(client)).has(migration.version)) throw error
    }
  }
  return appliedNow
}

async function appliedVersions(client: Client): Promise<Set<number>> {
  const result = await client.execute('SELECT version FROM schema_migrations')
  return new Set(result.rows.map((row) => Number(row.version)))
}

function assertOrdered(list: readonly Migration[]): void {
  list.forEach((migration, index) => {
    const previous = list[index - 1]
    if (!Number.isInteger(migration.version) || migration.version < 1) {
      throw new Error(`Migration "${migration.name}" has an invalid version`)
    }
    if (previous && migration.version <= previous.version) {
      throw new Error(`Migration versions must increase: ${previous.version} then ${migration.version}`)
    }
  })
}
