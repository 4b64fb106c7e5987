/**
 * Id-keyed maps inside long-lived values, kept as null-prototype dictionaries.
 *
 * V8 gives every object literal the same root map, and adding a property to such an object
 * records a map transition named after the key on that root map, shared by the whole process
 * (`JSON.parse` results do not add them; libsignal's `serialize()` output, filled by keyed stores,
 * does). A root map holds at most 1,536 transitions. Objects keyed by ids (a Signal
 * session record's `_sessions` and `_chains` are keyed by base64 public keys) each add one, and
 * while such an object lives its transition stays: a connector caching the session records of a
 * thousand sessions fills the root map. From then on, whenever a collection clears a short-lived
 * shape (Node's own per-`nextTick` object, per-request objects of `node:http`), the next object of
 * that shape cannot get its transition back and is given a fresh map of its own, every time: the
 * process allocates a map and a descriptor array per object, inline caches go megamorphic and the
 * HTTP path of a connector with 1,000 idle sessions ran at half the speed of an empty one.
 *
 * `Object.create(null)` objects are dictionaries from the start and record no transitions.
 */

type Dictionary = Record<string, unknown>

const isPlainObject = (value: unknown): value is Dictionary =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)

/** A null-prototype copy of `value`'s own enumerable properties (values shared, not cloned). */
export const toDictionary = <T extends Dictionary>(value: T, mapValue?: (entry: unknown) => unknown): T => {
  const dictionary = Object.create(null) as Dictionary
  for (const key of Object.keys(value)) dictionary[key] = mapValue ? mapValue(value[key]) : value[key]
  return dictionary as T
}

/** A serialized Signal session record (libsignal `SessionRecord.serialize()`) with its maps as dictionaries. */
const sessionRecord = (record: Dictionary): Dictionary => {
  const sessions = record._sessions
  if (!isPlainObject(sessions)) return record
  return {
    ...record,
    _sessions: toDictionary(sessions, (entry) =>
      isPlainObject(entry) && isPlainObject(entry._chains)
        ? { ...entry, _chains: toDictionary(entry._chains) }
        : entry,
    ),
  }
}

/** An app-state sync version (`{ version, hash, indexValueMap }`) with its index map as a dictionary. */
const syncVersion = (version: Dictionary): Dictionary =>
  isPlainObject(version.indexValueMap)
    ? { ...version, indexValueMap: toDictionary(version.indexValueMap) }
    : version

/**
 * `value` of Signal key type `type` as it should be kept in memory: its id-keyed maps as
 * dictionaries; values of other types as they are.
 */
export const keyValueForMemory = (type: string, value: unknown): unknown => {
  if (!isPlainObject(value)) return value
  if (type === 'session') return sessionRecord(value)
  if (type === 'app-state-sync-version') return syncVersion(value)
  return value
}
