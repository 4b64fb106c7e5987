import { describe, expect, it } from 'vitest'
import { closeAction, hasUnfinishedPairing, isLinked, ownIdentity } from './linking.js'

describe('closeAction', () => {
  it('restarts at once only after a new login, and never retries 401 or 440', () => {
    expect(closeAction(515, true)).toBe('restart')
    expect(closeAction(515, false)).toBe('retry')
    expect(closeAction(401, true)).toBe('logged_out')
    expect(closeAction(440, false)).toBe('replaced')
    for (const code of [408, 411, 428, 500, 503, undefined]) expect(closeAction(code, false)).toBe('retry')
  })
})

describe('linked creds', () => {
  it('tells a linked device from a pairing that never finished', () => {
    const pairing = { me: { id: '15550001111@s.whatsapp.net' } }
    const linked = { ...pairing, account: { details: new Uint8Array([1]) } }
    expect(isLinked(pairing as never)).toBe(false)
    expect(hasUnfinishedPairing(pairing as never)).toBe(true)
    expect(isLinked(linked as never)).toBe(true)
    expect(hasUnfinishedPairing(linked as never)).toBe(false)
    expect(hasUnfinishedPairing({} as never)).toBe(false)
  })

  it('reads the own number and LID without device or domain', () => {
    const creds = { me: { id: '15550001111:12@s.whatsapp.net', lid: '998877:12@lid' } }
    expect(ownIdentity(creds as never)).toEqual({
      ownNumber: '15550001111',
      ownJid: '15550001111@s.whatsapp.net',
      ownLid: '998877@lid',
    })
  })
})
