/**
 * Messages a client sends, as the server and the recipients' devices see them.
 *
 * A status is `<message to="status@broadcast" id type>` with one sender-key ciphertext
 * `<enc type="skmsg">` for everybody and `<participants><to jid><enc type="pkmsg|msg">` carrying the
 * sender-key distribution message to each recipient device (Baileys redistributes it on every
 * send). The server answers `<ack class="message" id from="status@broadcast">`, optionally with an
 * `error` attribute (479 stanza rejected, 463 restricted, 429 rate limited…).
 *
 * Each simulated recipient device decrypts its pairwise part with the sender's device as Signal
 * address, processes the sender key, then decrypts the shared ciphertext — exactly what a real
 * recipient does — so tests can assert what contacts actually got. Other messages (1:1, groups)
 * are acked and recorded but not delivered; nothing is relayed to other linked companions.
 */
import {
  type BinaryNode,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  normalizeMessageContent,
  proto,
} from '@whiskeysockets/baileys'
import type { AccountRegistry, ReceivedStatus, SimAccount, StatusAckMode } from './accounts.js'
import type { SimConnection } from './connection.js'
import { unixNow } from './linking.js'
import type { SignalDevice } from './signal-device.js'

export const STATUS_JID = 'status@broadcast'

/** A stanza the simulator accepted from a client, for inspection by tests. */
export interface SentStanza {
  id: string
  to: string
  from: string
  type?: string
  edit?: string
  recipients: string[]
  ack: StatusAckMode
  at: number
}

export class MessageRouter {
  readonly sent: SentStanza[] = []
  /** failures while decrypting on behalf of simulated devices (diagnostics for tests) */
  readonly decryptErrors: { id: string; device: string; error: string }[] = []

  constructor(private readonly accounts: AccountRegistry) {}

  async onMessage(conn: SimConnection, node: BinaryNode): Promise<void> {
    const sender = conn.account!
    const to = node.attrs.to ?? ''
    const id = node.attrs.id ?? ''
    const participants = getBinaryNodeChild(node, 'participants')
    const recipients = participants ? getBinaryNodeChildren(participants, 'to') : []
    const ack = to === STATUS_JID ? (sender.statusAckQueue.shift() ?? sender.statusAck) : 'ok'
    this.sent.push({
      id,
      to,
      from: sender.phone,
      type: node.attrs.type,
      edit: node.attrs.edit,
      recipients: recipients.map((r) => r.attrs.jid ?? ''),
      ack,
      at: Date.now(),
    })
    const error = typeof ack === 'object' && 'error' in ack ? ack.error : undefined
    if (ack !== 'none') {
      const attrs: Record<string, string> = { class: 'message', id, from: to, t: unixNow() }
      if (error !== undefined) attrs.error = String(error)
      const delayMs = typeof ack === 'object' ? (ack.delayMs ?? 0) : 0
      // A late ack must not hold up the connection's other frames: it is written from a timer.
      if (delayMs > 0) setTimeout(() => void conn.sendNode({ tag: 'ack', attrs }), delayMs)
      else await conn.sendNode({ tag: 'ack', attrs })
    }
    // a rejected stanza reaches nobody
    if (error !== undefined) return
    if (to === STATUS_JID) await this.deliverStatus(conn, node, recipients)
  }

  private async deliverStatus(
    conn: SimConnection,
    node: BinaryNode,
    recipients: BinaryNode[],
  ): Promise<void> {
    const sender = conn.account!
    const senderDevice = conn.companion!.deviceId
    // one stable Signal address per sending device, as a real recipient would use
    const senderAddress = sender.lidJid(senderDevice) ?? sender.pnJid(senderDevice)
    const skmsg = getBinaryNodeChildren(node, 'enc').find((enc) => enc.attrs.type === 'skmsg')
    for (const recipient of recipients) {
      const target = this.accounts.resolve(recipient.attrs.jid ?? '')
      const device = target?.account.simulated.get(target.device)
      const pairwise = getBinaryNodeChild(recipient, 'enc')
      if (!target || !device || !pairwise) continue
      try {
        const message = await this.openStatus(device, senderAddress, pairwise, skmsg)
        if (message) this.record(target.account, sender, node.attrs.id ?? '', device.jid, message)
      } catch (err) {
        this.decryptErrors.push({ id: node.attrs.id ?? '', device: device.jid, error: String(err) })
      }
    }
  }

  private async openStatus(
    device: SignalDevice,
    senderAddress: string,
    pairwise: BinaryNode,
    skmsg: BinaryNode | undefined,
  ): Promise<proto.IMessage | undefined> {
    const type = pairwise.attrs.type
    if ((type !== 'pkmsg' && type !== 'msg') || !(pairwise.content instanceof Uint8Array)) return undefined
    const direct = await device.decryptPairwise(senderAddress, type, pairwise.content)
    if (direct.senderKeyDistributionMessage) {
      await device.processSenderKey(senderAddress, direct.senderKeyDistributionMessage)
    }
    if (skmsg?.content instanceof Uint8Array) {
      return device.decryptGroup(STATUS_JID, senderAddress, skmsg.content)
    }
    return direct
  }

  private record(
    recipient: SimAccount,
    sender: SimAccount,
    id: string,
    deviceJid: string,
    message: proto.IMessage,
  ) {
    const existing = recipient.received.find((status) => status.id === id && status.from === sender.phone)
    if (existing) {
      if (!existing.devices.includes(deviceJid)) existing.devices.push(deviceJid)
      return
    }
    recipient.received.push({
      ...describeStatus(message),
      id,
      from: sender.phone,
      devices: [deviceJid],
      message,
      receivedAt: Date.now(),
    })
  }
}

type StatusContent = Pick<
  ReceivedStatus,
  'kind' | 'text' | 'caption' | 'backgroundColor' | 'font' | 'mimetype' | 'revokedId'
>

function describeStatus(raw: proto.IMessage): StatusContent {
  const message = normalizeMessageContent(raw) ?? raw
  if (message.protocolMessage?.type === proto.Message.ProtocolMessage.Type.REVOKE) {
    return { kind: 'revoke', revokedId: message.protocolMessage.key?.id ?? undefined }
  }
  const text = message.extendedTextMessage
  if (text || message.conversation) {
    return {
      kind: 'text',
      text: text?.text ?? message.conversation ?? undefined,
      backgroundColor: text?.backgroundArgb != null ? argbToHex(text.backgroundArgb) : undefined,
      font: text?.font ?? undefined,
    }
  }
  if (message.imageMessage) {
    return {
      kind: 'image',
      caption: message.imageMessage.caption ?? undefined,
      mimetype: message.imageMessage.mimetype ?? undefined,
    }
  }
  if (message.videoMessage) {
    return {
      kind: 'video',
      caption: message.videoMessage.caption ?? undefined,
      mimetype: message.videoMessage.mimetype ?? undefined,
    }
  }
  return { kind: 'other' }
}

/** `backgroundArgb` is a uint32 0xAARRGGBB; report it as `#rrggbb` like the send option. */
const argbToHex = (argb: number): string => `#${(argb >>> 0).toString(16).padStart(8, '0').slice(2)}`
