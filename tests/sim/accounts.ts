/**
 * Simulated WhatsApp accounts: a phone number, usually a LID, a primary phone (device 0) and
 * optionally more simulated devices — each with a real Signal identity — plus the companion
 * devices (real Baileys clients) linked to it through the simulator.
 */
import { randomInt } from 'node:crypto'
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import type { UploadedKeys } from './prekeys.js'
import { type PnToLid, SignalDevice } from './signal-device.js'

/**
 * How the server answers an account's status stanzas: `ok`, no ack at all (`none`), or an ack with
 * an `error` code and/or `delayMs` late. A rejected stanza reaches nobody; a late ack does not
 * hold the stanza back from the recipients.
 */
export type StatusAckMode = 'ok' | 'none' | { error: number; delayMs?: number } | { delayMs: number }

/** A real client linked as a companion device of an account. */
export interface CompanionDevice {
  deviceId: number
  keyIndex: number
  /** the client's noise static key: the server recognises the companion by it at login */
  noiseKey: Buffer
  /** registration id, identity and signed pre-key; one-time pre-keys once the client uploaded them */
  keys: UploadedKeys
  /** the phone still has to push the initial history-sync notification to this companion */
  needsInitialSync: boolean
  removed: boolean
  /** stanzas (receipts) waiting for the companion to come online */
  pending: BinaryNode[]
}

export interface ReceivedStatus {
  id: string
  /** the owner's phone number */
  from: string
  /** devices of this account that decrypted it (PN JIDs) */
  devices: string[]
  kind: 'text' | 'image' | 'video' | 'revoke' | 'other'
  text?: string
  caption?: string
  backgroundColor?: string
  font?: number
  mimetype?: string
  /** for a revoke: the id of the status it deletes */
  revokedId?: string
  message: proto.IMessage
  receivedAt: number
}

export interface AccountOptions {
  phone: string
  /** LID user part; `false` for an account without LID; default: a random LID */
  lid?: string | false
  pushName?: string
  /** simulated devices including the phone (device 0); default 1 */
  devices?: number
  /** The phone's contacts, sent to a newly linked companion in the initial history sync. */
  addressBook?: { phone: string; name?: string }[]
}

const PHONE_RE = /^\d{6,15}$/

export class SimAccount {
  readonly phone: string
  readonly lid?: string
  readonly pushName: string
  /** The phone's contacts (see AccountOptions.addressBook); may be changed before linking. */
  readonly addressBook: { phone: string; name?: string }[]
  /** simulated devices by device id; 0 is the primary phone, whose identity key signs companions */
  readonly simulated = new Map<number, SignalDevice>()
  readonly companions = new Map<number, CompanionDevice>()
  statusAck: StatusAckMode = 'ok'
  /** Acks for the next status stanzas, in order (one each), before `statusAck` applies again. */
  readonly statusAckQueue: StatusAckMode[] = []
  /** Answers to the device-list (usync) and key-bundle queries of its clients come this late. */
  queryDelayMs = 0
  readonly received: ReceivedStatus[] = []
  private nextDeviceId = 1
  private nextKeyIndex = 1

  constructor(opts: AccountOptions, pnToLid?: PnToLid) {
    if (!PHONE_RE.test(opts.phone)) throw new Error(`invalid phone number: ${opts.phone}`)
    this.phone = opts.phone
    this.lid = opts.lid === false ? undefined : (opts.lid ?? randomLid())
    this.pushName = opts.pushName ?? `Sim ${opts.phone.slice(-4)}`
    this.addressBook = [...(opts.addressBook ?? [])]
    const deviceCount = Math.max(1, opts.devices ?? 1)
    this.simulated.set(0, new SignalDevice(this.pnJid(0), pnToLid))
    for (let i = 1; i < deviceCount; i++) {
      const id = this.allocateDeviceId()
      this.simulated.set(id, new SignalDevice(this.pnJid(id), pnToLid))
    }
  }

  get phoneDevice(): SignalDevice {
    return this.simulated.get(0)!
  }

  pnJid(device = 0): string {
    return device ? `${this.phone}:${device}@s.whatsapp.net` : `${this.phone}@s.whatsapp.net`
  }

  lidJid(device = 0): string | undefined {
    if (!this.lid) return undefined
    return device ? `${this.lid}:${device}@lid` : `${this.lid}@lid`
  }

  allocateDeviceId(): number {
    return this.nextDeviceId++
  }

  allocateKeyIndex(): number {
    return this.nextKeyIndex++
  }

  /** Device ids the server lists for this account, with the ADV key index of non-primary ones. */
  activeDevices(): { id: number; keyIndex?: number }[] {
    const list: { id: number; keyIndex?: number }[] = []
    for (const id of this.simulated.keys()) list.push({ id, keyIndex: id ? id : undefined })
    for (const companion of this.companions.values()) {
      if (!companion.removed) list.push({ id: companion.deviceId, keyIndex: companion.keyIndex })
    }
    return list.sort((a, b) => a.id - b.id)
  }

  activeCompanion(deviceId: number): CompanionDevice | undefined {
    const companion = this.companions.get(deviceId)
    return companion && !companion.removed ? companion : undefined
  }
}

const randomLid = (): string => `${randomInt(10_000, 99_999)}${randomInt(1_000_000_000, 9_999_999_999)}`

export class AccountRegistry {
  private readonly byPhone = new Map<string, SimAccount>()
  private readonly byLid = new Map<string, SimAccount>()

  create(opts: AccountOptions): SimAccount {
    if (this.byPhone.has(opts.phone)) throw new Error(`account ${opts.phone} exists`)
    const account = new SimAccount(opts, (pns) => this.lidsFor(pns))
    if (account.lid && this.byLid.has(account.lid)) throw new Error(`LID ${account.lid} is taken`)
    this.byPhone.set(account.phone, account)
    if (account.lid) this.byLid.set(account.lid, account)
    return account
  }

  get(phone: string): SimAccount | undefined {
    return this.byPhone.get(phone)
  }

  require(phone: string): SimAccount {
    const account = this.byPhone.get(phone)
    if (!account) throw new Error(`unknown account ${phone}`)
    return account
  }

  all(): SimAccount[] {
    return [...this.byPhone.values()]
  }

  /** The server's PN→LID directory, keeping the device part of device JIDs. */
  lidsFor(pnJids: string[]): { pn: string; lid: string }[] {
    return pnJids.flatMap((pn) => {
      const found = this.resolve(pn)
      const lid = found?.server === 'pn' ? found.account.lidJid(found.device) : undefined
      return lid ? [{ pn, lid }] : []
    })
  }

  /** Resolves a user or device JID (`…@s.whatsapp.net` or `…@lid`) to its account and device. */
  resolve(jid: string): { account: SimAccount; device: number; server: 'pn' | 'lid' } | undefined {
    const match = /^(\d+)(?::(\d+))?@(s\.whatsapp\.net|lid)$/.exec(jid)
    if (!match) return undefined
    const [, user, device, server] = match
    const account = server === 'lid' ? this.byLid.get(user!) : this.byPhone.get(user!)
    if (!account) return undefined
    return { account, device: device ? Number(device) : 0, server: server === 'lid' ? 'lid' : 'pn' }
  }
}
