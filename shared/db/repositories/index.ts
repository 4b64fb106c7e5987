import type { Client } from '@libsql/client'
import type { Repositories } from '../types.js'
import { createAnalyticsRepo } from './analytics.js'
import { createApiKeysRepo } from './api-keys.js'
import { createAudiencesRepo } from './audiences.js'
import { createCommandLogRepo } from './command-log.js'
import { createContactsRepo } from './contacts.js'
import { createLidMapRepo } from './lid-map.js'
import { createScheduledStatusesRepo } from './scheduled.js'
import { createSessionsRepo } from './sessions.js'
import { createStatusJobsRepo } from './status-jobs.js'
import { createStatusesRepo } from './statuses.js'
import { createStorageUsage } from './storage-usage.js'
import { createUploadsRepo } from './uploads.js'
import { createViewersRepo } from './viewers.js'
import { createWebhooksRepo } from './webhooks.js'

/**
 * The repositories over any libSQL client. Nothing here imports `node:*`, so a Workers build can
 * import this file with a client from `@libsql/client/web`.
 */
export function createRepositories(client: Client): Repositories {
  return {
    sessions: createSessionsRepo(client),
    statuses: createStatusesRepo(client),
    viewers: createViewersRepo(client),
    uploads: createUploadsRepo(client),
    lidMap: createLidMapRepo(client),
    commandLog: createCommandLogRepo(client),
    analytics: createAnalyticsRepo(client),
    audiences: createAudiencesRepo(client),
    scheduled: createScheduledStatusesRepo(client),
    statusJobs: createStatusJobsRepo(client),
    webhooks: createWebhooksRepo(client),
    apiKeys: createApiKeysRepo(client),
    contacts: createContactsRepo(client),
    storageUsage: createStorageUsage(client),
  }
}
