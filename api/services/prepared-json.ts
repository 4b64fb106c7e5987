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

/** `build(source)` serialized, once per frozen `source`. */
export const jsonPerSource = <S extends object, T>(build: (source: S) => T) => {
  const answers = new WeakMap<S, JsonBytes<T>>()
  return (source: S): JsonBytes<T> => {
    if (!Object.isFrozen(source)) return encodeJson(build(source))
    let answer = answers.get(source)
    if (!answer) {
      answer = encodeJson(build(source))
      answers.set(source, answer)
    }
    return answer
  }
}
