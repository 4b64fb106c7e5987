import { describe, expect, it, vi } from 'vitest'
import { jsonListPerSource } from './prepared-json.js'

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('jsonListPerSource', () => {
  const row = (id: number) => Object.freeze({ id, name: `viewer "${id}"`, at: 1_000 + id })

  it('answers the bytes JSON.stringify gives for the whole envelope', () => {
    const present = (r: { id: number; name: string }) => ({ id: r.id, label: r.name, none: null })
    const answer = jsonListPerSource(present)
    for (const items of [[], [row(1)], [row(1), row(2), row(3)]]) {
      const expected = JSON.stringify({ success: true, data: items.map(present) })
      expect(decode(answer(Object.freeze(items)))).toBe(expected)
    }
  })

  it('serializes each frozen row once, and each frozen list once, across lists that share rows', () => {
    const present = vi.fn((r: { id: number }) => ({ id: r.id }))
    const answer = jsonListPerSource(present)
    const first = Object.freeze([row(1), row(2)])
    const grown = Object.freeze([...first, row(3)])
    const bytes = answer(first)
    expect(answer(first)).toBe(bytes)
    expect(present).toHaveBeenCalledTimes(2)
    expect(decode(answer(grown))).toBe(
      JSON.stringify({ success: true, data: [{ id: 1 }, { id: 2 }, { id: 3 }] }),
    )
    expect(present).toHaveBeenCalledTimes(3)
  })

  it('keeps nothing of rows or lists that are not frozen: they may change', () => {
    const present = vi.fn((r: { id: number }) => ({ id: r.id }))
    const answer = jsonListPerSource(present)
    const mutable = { id: 1 }
    const list = [mutable]
    expect(decode(answer(list))).toBe('{"success":true,"data":[{"id":1}]}')
    mutable.id = 2
    expect(decode(answer(list))).toBe('{"success":true,"data":[{"id":2}]}')
    expect(decode(answer(Object.freeze([mutable])))).toBe('{"success":true,"data":[{"id":2}]}')
    expect(present).toHaveBeenCalledTimes(3)
  })
})
