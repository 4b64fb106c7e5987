import { AsyncLocalStorage } from 'node:async_hooks'
import type { SignalKeyStore, SignalKeyStoreWithTransaction } from '@whiskeysockets/baileys'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeMemoryKeyStore, withTransactions } from '../tests/sim/memory-keys.js'
import { linkByQr, useSimulator } from '../tests/sim/test-clients.js'

/**
 * Baileys' key-store transactions with the patch in patches/ (one AsyncLocalStorage shared by every
 * socket instead of one per socket, enabled only while a transaction runs): the storage is shared,
 * the transactions are not.
 */

type DeviceLists = Record<string, string[]>

/** A promise and its resolver, so concurrent work can be interleaved in a fixed order. */
const gate = () => {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

const deviceLists = async (store: SignalKeyStore, ids: string[]): Promise<DeviceLists> =>
  (await store.get('device-list', ids)) as DeviceLists

/** The contexts Baileys' transactions ran `AsyncLocalStorage.run` with, and on which storage. */
const spyOnTransactionRuns = () => {
  const run = vi.spyOn(AsyncLocalStorage.prototype, 'run')
  return () => {
    const storages = new Set<unknown>()
    let runs = 0
    for (const [index, args] of run.mock.calls.entries()) {
      // Only Baileys' transaction contexts: { owner, parent, cache, mutations, dbQueries }.
      const context = args[0] as { mutations?: unknown } | undefined
      if (!context || typeof context !== 'object' || !('mutations' in context)) continue
      storages.add(run.mock.contexts[index])
      runs++
    }
    return { storages, runs }
  }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('Baileys transactions with one shared AsyncLocalStorage', () => {
  it('every key store runs its transactions on the same storage', async () => {
    const transactionRuns = spyOnTransactionRuns()
    const stores = Array.from({ length: 20 }, () => withTransactions(makeMemoryKeyStore()))
    await Promise.all(
      stores.map((store, i) =>
        store.transaction(async () => {
          await store.set({ 'device-list': { me: [String(i)] } })
        }, 'key'),
      ),
    )
    const { storages, runs } = transactionRuns()
    expect(runs).toBe(20)
    expect(storages.size).toBe(1)
  })

  it('keeps two stores’ concurrent transactions apart: neither sees the other’s cached keys', async () => {
    const backingA = makeMemoryKeyStore()
    const backingB = makeMemoryKeyStore()
    const a = withTransactions(backingA)
    const b = withTransactions(backingB)
    const aWrote = gate()
    const bDone = gate()

    const inA = a.transaction(async () => {
      await a.set({ 'device-list': { user: ['a'] } })
      aWrote.open()
      // B runs its whole transaction while this one is open, with its own view of the same key.
      await bDone.opened
      expect(await deviceLists(a, ['user'])).toEqual({ user: ['a'] })
      expect(a.isInTransaction()).toBe(true)
      return 'a'
    }, 'same-key')
    const inB = (async () => {
      await aWrote.opened
      const result = await b.transaction(async () => {
        expect(b.isInTransaction()).toBe(true)
        // A's uncommitted write is not visible here, nor in B's backing store.
        expect(await deviceLists(b, ['user'])).toEqual({})
        await b.set({ 'device-list': { user: ['b'] } })
        expect(await deviceLists(b, ['user'])).toEqual({ user: ['b'] })
        return 'b'
      }, 'same-key')
      bDone.open()
      return result
    })()

    // The same transaction key on two stores does not make one wait for the other.
    await expect(inB).resolves.toBe('b')
    await expect(inA).resolves.toBe('a')
    // Each commit went to its own store only.
    expect(await deviceLists(backingA, ['user'])).toEqual({ user: ['a'] })
    expect(await deviceLists(backingB, ['user'])).toEqual({ user: ['b'] })
  })

  it('inside one store’s transaction another store reads and writes outside any transaction', async () => {
    const backingB = makeMemoryKeyStore()
    const a = withTransactions(makeMemoryKeyStore())
    const b = withTransactions(backingB)
    await a.transaction(async () => {
      await a.set({ 'device-list': { user: ['a'] } })
      expect(b.isInTransaction()).toBe(false)
      await b.set({ 'device-list': { other: ['b'] } })
      // Written straight through, not held back in A's transaction.
      expect(await deviceLists(backingB, ['other'])).toEqual({ other: ['b'] })
      expect(await deviceLists(b, ['user'])).toEqual({})
    }, 'key')
    expect(await deviceLists(backingB, ['user'])).toEqual({})
  })

  it('a transaction of another store nested in one keeps both contexts', async () => {
    const backingA = makeMemoryKeyStore()
    const backingB = makeMemoryKeyStore()
    const a = withTransactions(backingA)
    const b: SignalKeyStoreWithTransaction = withTransactions(backingB)
    await a.transaction(async () => {
      await a.set({ 'device-list': { user: ['a'] } })
      await b.transaction(async () => {
        await b.set({ 'device-list': { user: ['b'] } })
        // A's own context is still found beneath B's.
        expect(a.isInTransaction()).toBe(true)
        expect(await deviceLists(a, ['user'])).toEqual({ user: ['a'] })
        expect(await deviceLists(b, ['user'])).toEqual({ user: ['b'] })
      }, 'key')
      // B committed when its transaction ended; A has not yet.
      expect(await deviceLists(backingB, ['user'])).toEqual({ user: ['b'] })
      expect(await deviceLists(backingA, ['user'])).toEqual({})
    }, 'key')
    expect(await deviceLists(backingA, ['user'])).toEqual({ user: ['a'] })
  })
})

describe('the shared storage between transactions', () => {
  it('is disabled once the last open transaction has committed, so idle sockets cost nothing', async () => {
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run')
    const disable = vi.spyOn(AsyncLocalStorage.prototype, 'disable')
    const a = withTransactions(makeMemoryKeyStore())
    const b = withTransactions(makeMemoryKeyStore())
    const bStarted = gate()
    const aMayFinish = gate()
    const inA = a.transaction(async () => {
      await bStarted.opened
      await aMayFinish.opened
    }, 'key')
    await b.transaction(async () => {
      bStarted.open()
    }, 'key')
    // A is still open: the storage stays on.
    const storage = run.mock.contexts.find((_, i) => {
      const context = run.mock.calls[i]?.[0] as { mutations?: unknown } | undefined
      return typeof context === 'object' && context !== null && 'mutations' in context
    })
    expect(storage).toBeDefined()
    expect(disable.mock.contexts.filter((context) => context === storage)).toHaveLength(0)
    aMayFinish.open()
    await inA
    expect(disable.mock.contexts.filter((context) => context === storage)).toHaveLength(1)
    // The next transaction switches it on again and works as before.
    await a.transaction(async () => {
      await a.set({ 'device-list': { again: ['1'] } })
      expect(a.isInTransaction()).toBe(true)
      expect(await deviceLists(a, ['again'])).toEqual({ again: ['1'] })
    }, 'key')
    expect(disable.mock.contexts.filter((context) => context === storage)).toHaveLength(2)
  })

  it('work that outlives its transaction reads and writes the store directly', async () => {
    const backing = makeMemoryKeyStore()
    const a = withTransactions(backing)
    const other = withTransactions(makeMemoryKeyStore())
    const committed = gate()
    let later: Promise<{ inTransaction: boolean; seen: DeviceLists }> | undefined
    await a.transaction(async () => {
      await a.set({ 'device-list': { user: ['in-transaction'] } })
      // Not awaited: resumes after the transaction committed.
      later = (async () => {
        await committed.opened
        await a.set({ 'device-list': { late: ['written'] } })
        return { inTransaction: a.isInTransaction(), seen: await deviceLists(a, ['user', 'late']) }
      })()
    }, 'key')
    // Another store's transaction keeps the shared storage enabled meanwhile.
    const otherOpen = gate()
    const otherDone = other.transaction(async () => {
      committed.open()
      await otherOpen.opened
    }, 'key')
    const result = await later
    otherOpen.open()
    await otherDone
    expect(result).toEqual({ inTransaction: false, seen: { user: ['in-transaction'], late: ['written'] } })
    // Written through to the store, not into the closed transaction's cache.
    expect(await deviceLists(backing, ['late'])).toEqual({ late: ['written'] })
  })
})

describe('real Baileys sockets', () => {
  const run = useSimulator()

  it('share one AsyncLocalStorage for the transactions their logins run', async () => {
    const transactionRuns = spyOnTransactionRuns()
    const phones = ['15550007001', '15550007002', '15550007003']
    for (const phone of phones) run.sim.createAccount({ phone })
    for (const phone of phones) run.sockets.push((await linkByQr(run.sim, phone)).sock)
    // Each login stores its own LID mapping and uploads pre-keys in transactions, and the
    // simulated phones' key stores run theirs too: all on one storage.
    await vi.waitFor(() => expect(transactionRuns().runs).toBeGreaterThanOrEqual(phones.length * 2))
    expect(transactionRuns().storages.size).toBe(1)
  })
})
