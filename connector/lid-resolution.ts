import type { LidMapRepo } from '../shared/db/types.js'
import { jidUser, normalizeUserJid } from './jid.js'
import { LruMap } from './lru.js'

/** Asks Baileys' local LID store for phone numbers; null when the socket is gone. */
export type LidLookup = (lids: string[]) => Promise<Map<string, string>>

/**
 * Turns viewer LIDs into phone numbers, trying in order: the `participant_pn` a receipt carried,
 * Baileys' own LID mapping (local, no network), then the pairs we stored when sending. Unknown LIDs
 * stay unresolved; the viewer is then recorded by LID and marked not real.
 */
export class LidResolver {
  /** Pairs seen in receipts, shared by all sessions (keys carry the session id). */
  private readonly fromReceipts: LruMap<string, string>
  /** Pairs seen in receipts and not stored yet, written with the next batch. */
  private readonly unsaved = new Map<string, Map<string, string>>()

  constructor(
    private readonly lidMap: LidMapRepo,
    capacity = 100_000,
  ) {
    this.fromReceipts = new LruMap(capacity)
  }

  /** Remembers a pair from a receipt's `participant_pn`. Cheap: no I/O until the next flush. */
  learn(sessionId: string, lid: string, pnDigits: string): void {
    const key = `${sessionId}\u0000${lid}`
    if (this.fromReceipts.get(key) === pnDigits) return
    this.fromReceipts.set(key, pnDigits)
    const pending = this.unsaved.get(sessionId) ?? new Map<string, string>()
    pending.set(lid, pnDigits)
    this.unsaved.set(sessionId, pending)
  }

  /** Resolves LID JIDs (normalised) to phone digits; the result holds only those found. */
  async resolve(sessionId: string, lids: string[], lookup: LidLookup | null): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    let missing: string[] = []
    for (const lid of lids) {
      const pn = this.fromReceipts.get(`${sessionId}\u0000${lid}`)
      if (pn) found.set(lid, pn)
      else missing.push(lid)
    }
    if (missing.length && lookup) {
      const fromBaileys = await lookup(missing).catch(() => new Map<string, string>())
      for (const [lid, pn] of fromBaileys) found.set(lid, pn)
      missing = missing.filter((lid) => !found.has(lid))
    }
    if (missing.length) {
      const stored = await this.lidMap.getPnForLids(sessionId, missing)
      for (const [lid, pn] of stored) {
        const digits = jidUser(pn) ?? pn
        found.set(lid, digits)
      }
    }
    return found
  }

  /**
   * Stores the pairs learned from receipts since the last call, one write per session. Pairs whose
   * write failed are kept for the next call; the error is rethrown for the caller to log.
   */
  async saveLearned(): Promise<void> {
    if (!this.unsaved.size) return
    const batches = [...this.unsaved]
    this.unsaved.clear()
    const results = await Promise.allSettled(
      batches.map(([sessionId, pairs]) =>
        this.lidMap.upsertMany(
          sessionId,
          [...pairs].map(([lid, pn]) => ({ lid, pn })),
        ),
      ),
    )
    let failure: unknown = null
    results.forEach((result, index) => {
      const batch = batches[index]
      if (result.status === 'fulfilled' || !batch) return
      failure = result.reason
      const [sessionId, pairs] = batch
      const pending = this.unsaved.get(sessionId) ?? new Map<string, string>()
      for (const [lid, pn] of pairs) if (!pending.has(lid)) pending.set(lid, pn)
      this.unsaved.set(sessionId, pending)
    })
    if (failure) throw failure
  }

  forgetSession(sessionId: string): void {
    const prefix = `${sessionId}\u0000`
    this.fromReceipts.deleteWhere((key) => key.startsWith(prefix))
    this.unsaved.delete(sessionId)
  }
}

/** Wraps Baileys' LID store: batched when it can be, device suffixes stripped from the answers. */
export const baileysLidLookup =
  (lidMapping: {
    getPNForLID(lid: string): Promise<string | null>
    getPNsForLIDs?(lids: string[]): Promise<{ lid: string; pn: string }[] | null>
  }): LidLookup =>
  async (lids) => {
    const found = new Map<string, string>()
    const wanted = new Set(lids)
    const add = (lid: string, pn: string | null | undefined) => {
      const key = normalizeUserJid(lid)
      const digits = jidUser(pn)
      if (key && wanted.has(key) && digits) found.set(key, digits)
    }
    if (lidMapping.getPNsForLIDs) {
      for (const pair of (await lidMapping.getPNsForLIDs(lids)) ?? []) add(pair.lid, pair.pn)
    } else {
      await Promise.all(lids.map(async (lid) => add(lid, await lidMapping.getPNForLID(lid))))
    }
    return found
  }
