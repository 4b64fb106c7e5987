import { generateWAMessage, type proto } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import { STATUS_BROADCAST_JID } from '../jid.js'
import type { PreparedStatusContent } from '../status-content.js'
import type { WaSocket } from '../wa-socket.js'

/**
 * Generates a status message once, media uploaded once, so every chunk of a big audience relays
 * the same bytes under the same message id (what `sendMessage` would redo per call).
 */
export const generateStatusMessage = async (
  sock: WaSocket,
  content: PreparedStatusContent,
  options: { messageId: string; backgroundColor?: string | undefined; font?: number | undefined },
  logger: Logger,
): Promise<proto.IMessage> => {
  const userJid = sock.authState.creds.me?.id
  if (!userJid) throw new Error('not logged in')
  const generated = await generateWAMessage(STATUS_BROADCAST_JID, content.message, {
    userJid,
    upload: sock.waUploadToServer,
    logger,
    messageId: options.messageId,
    ...(content.isText && options.backgroundColor ? { backgroundColor: options.backgroundColor } : {}),
    ...(content.isText && options.font !== undefined ? { font: options.font } : {}),
  })
  if (!generated.message) throw new Error('no message generated')
  return generated.message
}
