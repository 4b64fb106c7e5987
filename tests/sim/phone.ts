/**
 * What the primary phone pushes to a freshly linked companion.
 *
 * On its first login Baileys waits (buffering every event, views and error acks included) for the
 * phone's history-sync notification, for up to 20 s. The phone sends it as a Signal message from
 * device 0 to the companion (`category="peer"`, encrypted against the pre-keys the companion just
 * uploaded). An INITIAL_BOOTSTRAP notification with an inline (zlib) payload is processed without
 * any media download; Baileys then runs its initial app-state sync (answered with empty
 * collections) and goes online.
 */
import { deflateSync } from 'node:zlib'
import { proto } from '@whiskeysockets/baileys'
import { newStanzaId, type SimConnection } from './connection.js'
import { unixNow } from './linking.js'

export async function pushInitialHistorySync(conn: SimConnection): Promise<void> {
  const account = conn.account
  const companion = conn.companion
  // the login sends it again once the offline marker is out (pre-keys may be uploaded earlier)
  if (!account || !companion?.needsInitialSync || !conn.offlineDelivered) return
  const preKey = companion.keys.preKeys.shift()
  if (!preKey) return
  companion.needsInitialSync = false
  const syncType = proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP
  const inline = deflateSync(
    proto.HistorySync.encode({
      syncType,
      // The phone's chats name its contacts: Baileys turns them into `messaging-history.set` contacts.
      conversations: account.addressBook.map((contact) => ({
        id: `${contact.phone}@s.whatsapp.net`,
        ...(contact.name ? { name: contact.name } : {}),
      })),
      progress: 100,
    }).finish(),
  )
  const message: proto.IMessage = {
    protocolMessage: {
      type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
      historySyncNotification: {
        syncType,
        initialHistBootstrapInlinePayload: inline,
        chunkOrder: 0,
        progress: 100,
      },
    },
  }
  const { registrationId, identityKey, signedPreKey } = companion.keys
  const { type, ciphertext } = await account.phoneDevice.encryptFor(
    account.pnJid(companion.deviceId),
    { registrationId, identityKey, signedPreKey, preKey },
    message,
  )
  await conn.sendNode({
    tag: 'message',
    attrs: { from: account.pnJid(0), id: newStanzaId(), type: 'text', t: unixNow(), category: 'peer' },
    content: [{ tag: 'enc', attrs: { v: '2', type }, content: Buffer.from(ciphertext) }],
  })
}
