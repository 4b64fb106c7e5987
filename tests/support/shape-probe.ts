/**
 * Whether plain objects still share V8 shapes in a process that did one of a few things, for
 * connector/object-shapes.test.ts. Run in a child of its own:
 *
 *   node --allow-natives-syntax --expose-gc --import tsx tests/support/shape-probe.ts <scenario>
 *
 * Prints `{ "room": boolean }`: whether, after a full collection, the root map of object literals
 * can still take 500 more transitions. Two objects made as `{}` and given the same new property
 * share a map while it can; once it holds its maximum (1,536 in V8 11), each such object gets a
 * map of its own (see connector/dictionaries.ts).
 *
 * Scenarios:
 *  - `fresh`: nothing but the probe (control: room);
 *  - `filled`: 2,000 live objects, each given a distinct first key (control: no room);
 *  - `baileys`: Baileys imported, as every connector does;
 *  - `key-cache`: Baileys imported and 2,000 Signal session records, as Baileys stores them after
 *    a send or a decrypt (session-records.ts), kept in the connector's key cache (`JSON.parse`
 *    results, what the auth store decodes, add no transitions);
 *  - `raw-cache`: the same records kept as they come, in a plain Map (control: no room).
 */
import { randomBytes } from 'node:crypto'
import { serializedSessionRecord } from './session-records.js'

const RECORDS = 2_000

const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean
const hasFastProperties = new Function('a', 'return %HasFastProperties(a)') as (a: object) => boolean
const gc = globalThis.gc
if (!gc) throw new Error('run with --expose-gc')

/** One keyed store site, as library code adds properties to fresh `{}` objects. */
const objectWith = (name: string): Record<string, number> => {
  const object: Record<string, number> = {}
  object[name] = 1
  return object
}
/**
 * Whether the root map can still take `ROOM` more transitions: that many objects get a distinct
 * new property each (and are kept), then two objects given one more new name, from one site, must
 * share a fast map. (Node's `process.nextTick` builds its tick objects the same way.)
 */
const ROOM = 500
const hasRoom = (): boolean => {
  const tag = randomBytes(4).toString('hex')
  const taken = Array.from({ length: ROOM }, (_, i) => objectWith(`room${i}_${tag}`))
  const a = objectWith(`probe_${tag}`)
  const b = objectWith(`probe_${tag}`)
  return taken.length === ROOM && hasFastProperties(a) && haveSameMap(a, b)
}

const keep: unknown[] = []
const scenario = process.argv[2]
switch (scenario) {
  case 'fresh':
    break
  case 'filled':
    for (let i = 0; i < RECORDS; i++) {
      const object: Record<string, number> = {}
      object[`distinct${i}`] = i
      keep.push(object)
    }
    break
  case 'baileys':
    await import('@whiskeysockets/baileys')
    break
  case 'key-cache': {
    await import('@whiskeysockets/baileys')
    const { SharedKeyCache } = await import('../../connector/key-cache.js')
    const cache = new SharedKeyCache()
    const store = cache.forSession('probe')
    for (let i = 0; i < RECORDS; i++) store.set(`session.${i}.0`, serializedSessionRecord())
    keep.push(cache)
    break
  }
  case 'raw-cache': {
    await import('@whiskeysockets/baileys')
    const cache = new Map<string, unknown>()
    for (let i = 0; i < RECORDS; i++) cache.set(`session.${i}.0`, serializedSessionRecord())
    keep.push(cache)
    break
  }
  default:
    throw new Error(`unknown scenario ${scenario}`)
}
// Transitions are weak: a full collection drops those of objects that died.
gc()
gc()
process.stdout.write(`${JSON.stringify({ room: hasRoom(), kept: keep.length })}\n`)
