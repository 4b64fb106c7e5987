import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import { openDatabase } from '../node/db-client.js'
import { migrate } from './migrations.js'
import type { NewStatus, WebhookDeliveryRecord } from './types.js'

export interface TestDatabase {
  client: Client
  dir: string
  url: string
  cleanup(): Promise<void>
}

/** A migrated libSQL file in a fresh temp dir; `cleanup` closes it and removes the dir. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'wa-db-test-'))
  const url = `file:${join(dir, 'data', 'test.db')}`
  const client = await openDatabase(url)
  await migrate(client)
  return {
    client,
    dir,
    url,
    async cleanup() {
      client.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export function newStatus(overrides: Partial<NewStatus> = {}): NewStatus {
  const createdAt = overrides.createdAt ?? Date.now()
  return {
    sessionId: 'main',
    type: 'text',
    content: 'hello',
    caption: '',
    backgroundColor: '#315575',
    font: 1,
    targetNumbers: '628123456789',
    contactCount: 1,
    waMessageId: null,
    state: 'pending',
    error: null,
    mediaFilename: null,
    createdAt,
    expiresAt: createdAt + 24 * 3600_000,
    ...overrides,
  }
}

/** A delivery as the connector queues one: pending, never tried, due at its creation. */
export function newDelivery(
  overrides: Partial<WebhookDeliveryRecord> & Pick<WebhookDeliveryRecord, 'id' | 'webhookId'>,
): WebhookDeliveryRecord {
  const createdAt = overrides.createdAt ?? Date.now()
  return {
    sessionId: 's',
    event: 'status-deleted',
    body: '{}',
    state: 'pending',
    attempts: 0,
    nextAttemptAt: createdAt,
    leaseUntil: null,
    lastAttemptAt: null,
    responseStatus: null,
    lastError: null,
    redeliveryOf: null,
    createdAt,
    deliveredAt: null,
    ...overrides,
  }
}
