import { randomBytes } from 'node:crypto'

/**
 * Signal session records as libsignal's `SessionRecord.serialize()` returns them (what Baileys
 * hands the key store to keep), with random keys: the id-keyed maps (`_sessions`, `_chains`) are
 * filled by keyed stores on `{}`, as libsignal fills them.
 */

export const randomKey = (): string => randomBytes(33).toString('base64')

/** One serialized session entry with `chains` receiving/sending chains. */
export const sessionEntry = (chains: number) => {
  const _chains: Record<string, unknown> = {}
  for (let i = 0; i < chains; i++)
    _chains[randomKey()] = {
      chainKey: { counter: i, key: randomKey() },
      chainType: 1 + (i % 2),
      messageKeys: { 3: randomKey() },
    }
  return {
    registrationId: 42,
    currentRatchet: {
      ephemeralKeyPair: { pubKey: randomKey(), privKey: randomKey() },
      lastRemoteEphemeralKey: randomKey(),
      previousCounter: 2,
      rootKey: randomKey(),
    },
    indexInfo: {
      baseKey: randomKey(),
      baseKeyType: 2,
      closed: -1,
      used: 7,
      created: 5,
      remoteIdentityKey: randomKey(),
    },
    _chains,
  }
}

/** A serialized record holding `entries`, each under a key of its own. */
export const serializedSessionRecord = (entries = [sessionEntry(1)]) => {
  const _sessions: Record<string, unknown> = {}
  for (const entry of entries) _sessions[randomKey()] = entry
  return { _sessions, version: 'v1' }
}
