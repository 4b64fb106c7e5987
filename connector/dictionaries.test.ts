import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { randomKey, serializedSessionRecord, sessionEntry } from '../tests/support/session-records.js'
import { keyValueForMemory, toDictionary } from './dictionaries.js'
import { SharedKeyCache } from './key-cache.js'

/** libsignal, as Baileys loads it, reads the records back. */
const { SessionRecord } = createRequire(import.meta.url)('libsignal') as {
  SessionRecord: { deserialize(data: unknown): { serialize(): unknown; getSessions(): unknown[] } }
}

/** Two entries, one of them closed, as a record holds after a session was replaced. */
const record = () =>
  serializedSessionRecord([
    sessionEntry(2),
    (() => {
      const closed = sessionEntry(1)
      closed.indexInfo.closed = 9
      return closed
    })(),
  ])
const prototypeOf = (value: unknown) => Object.getPrototypeOf(value)

describe('keyValueForMemory', () => {
  it('keeps a session record’s id-keyed maps as null-prototype dictionaries, other fields as they are', () => {
    const original = record()
    const kept = keyValueForMemory('session', original) as ReturnType<typeof record>
    expect(prototypeOf(kept._sessions)).toBeNull()
    for (const session of Object.values(kept._sessions) as { _chains: object; indexInfo: object }[]) {
      expect(prototypeOf(session._chains)).toBeNull()
      expect(prototypeOf(session.indexInfo)).toBe(Object.prototype)
    }
    // Same content, and the original is not touched.
    expect(JSON.parse(JSON.stringify(kept))).toEqual(JSON.parse(JSON.stringify(original)))
    expect(prototypeOf(original._sessions)).toBe(Object.prototype)
  })

  it('gives libsignal the same record back', () => {
    const original = record()
    const fromMemory = SessionRecord.deserialize(keyValueForMemory('session', original))
    expect(fromMemory.serialize()).toEqual(SessionRecord.deserialize(original).serialize())
    expect(fromMemory.getSessions()).toHaveLength(2)
  })

  it('keeps an app-state sync version’s index map as a dictionary', () => {
    const indexValueMap = {
      [randomKey()]: { valueMac: Buffer.from('a') },
      [randomKey()]: { valueMac: Buffer.from('b') },
    }
    const version = { version: 3, hash: Buffer.alloc(128), indexValueMap }
    const kept = keyValueForMemory('app-state-sync-version', version) as typeof version
    expect(prototypeOf(kept.indexValueMap)).toBeNull()
    expect({ ...kept.indexValueMap }).toEqual(indexValueMap)
    expect(kept.hash).toBe(version.hash)
  })

  it('leaves other types, and values it does not recognise, as they are', () => {
    const preKey = { public: Buffer.from('p'), private: Buffer.from('q') }
    expect(keyValueForMemory('pre-key', preKey)).toBe(preKey)
    expect(keyValueForMemory('session', null)).toBeNull()
    const odd = { _sessions: 'not a map' }
    expect(keyValueForMemory('session', odd)).toBe(odd)
    const devices = ['1', '2']
    expect(keyValueForMemory('device-list', devices)).toBe(devices)
  })

  it('toDictionary copies own enumerable properties into a null-prototype object', () => {
    const copy = toDictionary({ a: 1, b: 2 }, (value) => (value as number) * 10)
    expect(prototypeOf(copy)).toBeNull()
    expect({ ...copy }).toEqual({ a: 10, b: 20 })
  })
})

describe('SharedKeyCache', () => {
  it('keeps what Baileys stores in memory form and returns it per session', () => {
    const cache = new SharedKeyCache(10)
    const one = cache.forSession('one')
    const two = cache.forSession('two')
    one.set('session.123.0', record())
    const kept = one.get('session.123.0') as ReturnType<typeof record> | undefined
    expect(kept && prototypeOf(kept._sessions)).toBeNull()
    expect(two.get('session.123.0')).toBeUndefined()
    const preKey = { public: Buffer.from('p') }
    one.set('pre-key.7', preKey)
    expect(one.get('pre-key.7')).toBe(preKey)
  })
})
