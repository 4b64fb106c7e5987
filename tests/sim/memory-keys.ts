/**
 * In-memory Signal key store and auth state. Used by simulated devices (through Baileys' own
 * Signal repository) and by tests that drive raw Baileys sockets.
 */
import {
  type AuthenticationCreds,
  type AuthenticationState,
  addTransactionCapability,
  initAuthCreds,
  type SignalDataTypeMap,
  type SignalKeyStore,
  type SignalKeyStoreWithTransaction,
} from '@whiskeysockets/baileys'
import { silentLogger } from './logger.js'

type KeyType = keyof SignalDataTypeMap

export function makeMemoryKeyStore(): SignalKeyStore {
  const data = new Map<KeyType, Map<string, unknown>>()
  const bucket = (type: KeyType) => {
    let map = data.get(type)
    if (!map) {
      map = new Map()
      data.set(type, map)
    }
    return map
  }
  return {
    get: async <T extends KeyType>(type: T, ids: string[]) => {
      const map = bucket(type)
      const found: { [id: string]: SignalDataTypeMap[T] } = {}
      for (const id of ids) {
        const value = map.get(id)
        if (value !== undefined) found[id] = value as SignalDataTypeMap[T]
      }
      return found
    },
    set: async (changes) => {
      for (const [type, values] of Object.entries(changes)) {
        const map = bucket(type as KeyType)
        for (const [id, value] of Object.entries(values ?? {})) {
          if (value === null || value === undefined) map.delete(id)
          else map.set(id, value)
        }
      }
    },
  }
}

/** Wraps a store with Baileys' transaction layer (no commit retries: memory writes do not fail). */
export function withTransactions(store: SignalKeyStore): SignalKeyStoreWithTransaction {
  return addTransactionCapability(store, silentLogger, { maxCommitRetries: 1, delayBetweenTriesMs: 0 })
}

/** A fresh in-memory auth state for a raw Baileys socket; reuse it across reconnects. */
export function makeMemoryAuthState(creds: AuthenticationCreds = initAuthCreds()): AuthenticationState {
  return { creds, keys: makeMemoryKeyStore() }
}
