import makeWASocket, {
  type AnyMessageContent,
  type AuthenticationCreds,
  type BaileysEventMap,
  type BinaryNode,
  type Contact,
  type LIDMapping,
  type MiscMessageGenerationOptions,
  type proto,
  type UserFacingSocketConfig,
  type WAMediaUploadFunction,
  type WAMessage,
} from '@whiskeysockets/baileys'

/**
 * The part of a Baileys socket the connector uses. The real `makeWASocket` result satisfies it;
 * tests pass a small double with the same surface through `SocketFactory`.
 */
export interface WaSocket {
  ev: {
    on<E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void): void
    off<E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void): void
  }
  /** Raw stanza events (`CB:ack,class:message`, `CB:receipt`, …). */
  ws: {
    on(event: string, listener: (node: BinaryNode) => void): unknown
    off(event: string, listener: (node: BinaryNode) => void): unknown
  }
  user: Contact | undefined
  authState: { creds: AuthenticationCreds }
  signalRepository: {
    lidMapping: {
      getLIDsForPNs(pns: string[]): Promise<LIDMapping[] | null>
      getPNForLID(lid: string): Promise<string | null>
      getPNsForLIDs?(lids: string[]): Promise<LIDMapping[] | null>
    }
  }
  sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: MiscMessageGenerationOptions,
  ): Promise<WAMessage | undefined>
  /**
   * Writes an already generated message (a big audience's chunks share one, with one message id;
   * its media was uploaded once).
   */
  relayMessage(
    jid: string,
    message: proto.IMessage,
    options: { messageId: string; statusJidList?: string[] },
  ): Promise<string>
  /** Uploads encrypted media to WhatsApp's media hosts (used when a message is generated once). */
  waUploadToServer: WAMediaUploadFunction
  requestPairingCode(phoneNumber: string, customPairingCode?: string): Promise<string>
  logout(msg?: string): Promise<void>
  end(error: Error | undefined): unknown
}

export type SocketFactory = (config: UserFacingSocketConfig) => WaSocket

/** The real thing: a Baileys WhatsApp Web socket. */
export const baileysSocketFactory: SocketFactory = (config) => makeWASocket(config)

/** Ends a socket without logging out; ending one that is already closed is fine. */
export const endSocket = (sock: WaSocket): void => {
  try {
    const ended = sock.end(undefined)
    if (ended instanceof Promise) ended.catch(() => {})
  } catch {
    // Already closed.
  }
}
