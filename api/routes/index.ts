import type { App } from '../types.js'
import { registerContactAnalytics } from './analytics/contacts.js'
import { registerDailyAnalytics } from './analytics/daily.js'
import { registerStatusAnalytics } from './analytics/status.js'
import { registerCreateAudience } from './audiences/create.js'
import { registerDeleteAudience } from './audiences/delete.js'
import { registerListAudiences } from './audiences/list.js'
import { registerListContacts } from './contacts/list.js'
import { registerGetJob } from './jobs/get.js'
import { registerCreateKey } from './keys/create.js'
import { registerListKeys } from './keys/list.js'
import { registerRevokeKey } from './keys/revoke.js'
import { registerConnectionStatus } from './sessions/connection-status.js'
import { registerCreateSession } from './sessions/create.js'
import { registerDeleteSession } from './sessions/delete.js'
import { registerListSessions } from './sessions/list.js'
import { registerPairingCode } from './sessions/pairing-code.js'
import { registerQrCode } from './sessions/qr-code.js'
import { registerRequestPairingCode } from './sessions/request-pairing-code.js'
import { registerRestartSession } from './sessions/restart.js'
import { registerUpdatePhoneNumber } from './sessions/update-phone.js'
import { registerDeleteStatus } from './statuses/delete.js'
import { registerListStatuses } from './statuses/list.js'
import { registerCancelScheduled } from './statuses/scheduled-cancel.js'
import { registerListScheduled } from './statuses/scheduled-list.js'
import { registerSendStatus } from './statuses/send.js'
import { registerStatusViewers } from './statuses/viewers.js'
import { registerHealth } from './system/health.js'
import { registerStats } from './system/stats.js'
import { registerStorage } from './system/storage.js'
import { registerCreateUploadLink } from './uploads/create-link.js'
import { registerDownloadUpload } from './uploads/get.js'
import { registerSignedUpload } from './uploads/put.js'
import { registerUploadImage } from './uploads/upload-image.js'
import { registerUploadVideo } from './uploads/upload-video.js'
import { registerCreateWebhook } from './webhooks/create.js'
import { registerDeleteWebhook } from './webhooks/delete.js'
import { registerListDeliveries } from './webhooks/deliveries.js'
import { registerGetWebhook } from './webhooks/get.js'
import { registerListWebhooks } from './webhooks/list.js'
import { registerRedeliver } from './webhooks/redeliver.js'
import { registerUpdateWebhook } from './webhooks/update.js'

/** Every route of the API, in the order the docs list them. */
export const registerRoutes = (app: App) => {
  for (const register of [
    registerCreateSession,
    registerListSessions,
    registerDeleteSession,
    registerRestartSession,
    registerUpdatePhoneNumber,
    registerConnectionStatus,
    registerPairingCode,
    registerRequestPairingCode,
    registerQrCode,
    registerSendStatus,
    registerGetJob,
    registerListStatuses,
    registerStatusViewers,
    registerDeleteStatus,
    registerListScheduled,
    registerCancelScheduled,
    registerStatusAnalytics,
    registerContactAnalytics,
    registerDailyAnalytics,
    registerListContacts,
    registerCreateAudience,
    registerListAudiences,
    registerDeleteAudience,
    registerCreateWebhook,
    registerListWebhooks,
    registerGetWebhook,
    registerUpdateWebhook,
    registerDeleteWebhook,
    registerListDeliveries,
    registerRedeliver,
    registerCreateKey,
    registerListKeys,
    registerRevokeKey,
    registerUploadImage,
    registerUploadVideo,
    registerCreateUploadLink,
    registerSignedUpload,
    registerDownloadUpload,
    registerHealth,
    registerStats,
    registerStorage,
  ]) {
    register(app)
  }
}
