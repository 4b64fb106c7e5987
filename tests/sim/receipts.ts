/**
 * Status views: the server relays a viewer's read/played receipt to every companion of the
 * status owner as `<receipt from="status@broadcast" participant="viewer" id t type>`. When the
 * server addresses the viewer by LID, `participant` is the LID and `participant_pn` +
 * `addressing_mode="lid"` carry the phone number (Baileys itself ignores `participant_pn`).
 * Receipts for a companion that is offline wait and are delivered, marked `offline`, right
 * after its next login and before `<ib><offline count/></ib>`.
 */
import type { BinaryNode } from '@whiskeysockets/baileys'
import type { AccountRegistry, SimAccount } from './accounts.js'
import type { SimConnection } from './connection.js'
import { unixNow } from './linking.js'
import { STATUS_JID } from './messages.js'

export interface ViewOptions {
  type?: 'read' | 'played'
  /** address the viewer by LID (with `participant_pn`), as WhatsApp does for LID accounts */
  asLid?: boolean
  /** with `asLid`: leave `participant_pn` out, so the receipt names the viewer by LID alone */
  withoutPn?: boolean
}

export interface ViewResult {
  /** receipts written to open companion connections */
  delivered: number
  /** receipts held for offline companions */
  queued: number
}

/** Receipts encrypted and written per event-loop turn during a burst. */
const WRITE_SLICE = 5
/** Receipts a burst keeps in flight ahead of the client's acks. */
const WINDOW = 10
/** A client that has not acked for this long gets the rest of the burst without pacing. */
const ACK_WAIT_MS = 2_000
/** Receipt nodes built per event-loop turn before a burst is written. */
const BUILD_SLICE = 500

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

export class Receipts {
  constructor(
    private readonly accounts: AccountRegistry,
    private readonly openConnection: (account: SimAccount, deviceId: number) => SimConnection | undefined,
  ) {}

  async view(
    contactPhone: string,
    ownerPhone: string,
    messageId: string,
    opts: ViewOptions = {},
  ): Promise<ViewResult> {
    const viewer = this.accounts.require(contactPhone)
    const owner = this.accounts.require(ownerPhone)
    return this.relay(owner, [receiptFor(viewer, messageId, opts)])
  }

  /** Many viewers of one status in quick succession (all written back-to-back). */
  async viewBurst(
    ownerPhone: string,
    messageId: string,
    viewers: (string | ({ phone: string } & ViewOptions))[],
    defaults: ViewOptions = {},
  ): Promise<ViewResult> {
    const owner = this.accounts.require(ownerPhone)
    const receipts: BinaryNode[] = []
    for (const viewer of viewers) {
      // Building thousands of nodes is itself a stall for a client sharing this event loop.
      if (receipts.length && receipts.length % BUILD_SLICE === 0) await nextTurn()
      const { phone, ...opts } = typeof viewer === 'string' ? { phone: viewer } : viewer
      receipts.push(receiptFor(this.accounts.require(phone), messageId, { ...defaults, ...opts }))
    }
    return this.relay(owner, receipts)
  }

  /** Writes the receipts held for a companion that just logged in. */
  async flushPending(conn: SimConnection): Promise<number> {
    const pending = conn.companion?.pending.splice(0) ?? []
    for (const node of pending) await conn.sendNode({ ...node, attrs: { ...node.attrs, offline: '1' } })
    return pending.length
  }

  private async relay(owner: SimAccount, receipts: BinaryNode[]): Promise<ViewResult> {
    const outcome: ViewResult = { delivered: 0, queued: 0 }
    for (const companion of owner.companions.values()) {
      if (companion.removed) continue
      const conn = this.openConnection(owner, companion.deviceId)
      if (conn) {
        await this.write(conn, receipts)
        outcome.delivered += receipts.length
      } else {
        companion.pending.push(...receipts)
        outcome.queued += receipts.length
      }
    }
    return outcome
  }

  /**
   * Writes a burst in slices, never more than `WINDOW` receipts ahead of the client's acks. The
   * simulator usually shares its process (and event loop) with the client under test: encrypting
   * thousands of frames in one go would stall that client for hundreds of milliseconds, and a
   * flood of queued frames would make it read and handle them in 64 KB gulps — neither of which
   * says anything about the client's own code. Baileys acks every receipt it has handled.
   */
  private async write(conn: SimConnection, receipts: BinaryNode[]): Promise<void> {
    const acked = conn.acknowledgedReceipts
    let paced = true
    for (let start = 0; start < receipts.length; start += WRITE_SLICE) {
      if (start) {
        await nextTurn()
        if (paced) paced = await conn.waitForReceiptAcks(acked + start + WRITE_SLICE - WINDOW, ACK_WAIT_MS)
      }
      const slice = receipts.slice(start, start + WRITE_SLICE)
      await Promise.all(slice.map((receipt) => conn.sendNode(receipt)))
    }
  }
}

function receiptFor(viewer: SimAccount, messageId: string, opts: ViewOptions): BinaryNode {
  const attrs: Record<string, string> = {
    from: STATUS_JID,
    id: messageId,
    t: unixNow(),
    type: opts.type ?? 'read',
  }
  if (opts.asLid) {
    const lid = viewer.lidJid()
    if (!lid) throw new Error(`account ${viewer.phone} has no LID`)
    attrs.participant = lid
    if (!opts.withoutPn) attrs.participant_pn = viewer.pnJid()
    attrs.addressing_mode = 'lid'
  } else {
    attrs.participant = viewer.pnJid()
  }
  return { tag: 'receipt', attrs }
}
