/**
 * JSON answers serialized ahead of the request. A read model hands out the same frozen array for as
 * long as its data is unchanged, so the answer built from that array is kept beside it (weakly:
 * it goes when the array does) and a repeated read costs no mapping, no JSON.stringify and no
 * UTF-8 encoding. Arrays that are not frozen (read from the database for this request only) are
 * serialized and not kept.
 */

declare const shape: unique symbol

/** UTF-8 JSON text of a `T`; the type parameter says what the bytes hold. */
export type JsonBytes<T> = Uint8Array<ArrayBuffer> & { readonly [shape]?: T }

const encoder = new TextEncoder()

export const encodeJson = <T>(value: T): JsonBytes<T> => encoder.encode(JSON.stringify(value)) as JsonBytes<T>

/** `encode(source)`, once per frozen `source`. */
const perSource = <S extends object, T>(encode: (source: S) => JsonBytes<T>) => {
  const answers = new WeakMap<S, JsonBytes<T>>()
  return (source: S): JsonBytes<T> => {
    if (!Object.isFrozen(source)) return encode(source)
    let answer = answers.get(source)
    if (!answer) {
      answer = encode(source)
      answers.set(source, answer)
    }
    return answer
  }
}

/** `build(source)` serialized, once per frozen `source`. */
export const jsonPerSource = <S extends object, T>(build: (source: S) => T) =>
  perSource<S, T>((source) => encodeJson(build(source)))

/**
 * `{ success: true, data: items.map(item) }` serialized once per frozen `items`, the JSON of each
 * frozen item kept beside it too. A read model's list that gained a few rows is a new array of
 * mostly the same records, so its answer costs a join of the parts already made rather than a
 * serialization of every row (thousands, while a burst of views is recorded). The bytes are the
 * ones `JSON.stringify` gives for the whole object.
 */
export const jsonListPerSource = <I extends object, V>(item: (source: I) => V) => {
  const parts = new WeakMap<I, string>()
  const part = (source: I): string => {
    if (!Object.isFrozen(source)) return JSON.stringify(item(source))
    let text = parts.get(source)
    if (text === undefined) {
      text = JSON.stringify(item(source))
      parts.set(source, text)
    }
    return text
  }
  return perSource<readonly I[], { success: true; data: V[] }>(
    (items) =>
      encoder.encode(`{"success":true,"data":[${items.map(part).join(',')}]}`) as JsonBytes<{
        success: true
        data: V[]
      }>,
  )
}
