import { describe, expect, it } from 'vitest'
import { contactRecords } from './contact-sync.js'

describe('contacts from Baileys', () => {
  it('keeps numbers with their best name, from phone-number JIDs and LIDs that carry one', () => {
    expect(
      contactRecords([
        { id: '15550001111@s.whatsapp.net', name: 'Alice' },
        { id: '15550002222@s.whatsapp.net', notify: 'Bob (profile)' },
        { id: '123456789012345@lid', phoneNumber: '15550003333@s.whatsapp.net', verifiedName: 'Shop Ltd' },
        { id: '123456789099999@lid' },
        { id: '120363000000000000@g.us', name: 'A group' },
        { id: 'status@broadcast' },
        { id: '15550004444:3@s.whatsapp.net' },
        // The same number again without a name keeps the one it had.
        { id: '15550001111@s.whatsapp.net' },
      ]),
    ).toEqual([
      { number: '15550001111', name: 'Alice' },
      { number: '15550002222', name: 'Bob (profile)' },
      { number: '15550003333', name: 'Shop Ltd' },
      { number: '15550004444', name: null },
    ])
  })
})
