import { describe, expect, it } from 'vitest'
import { buildStatusAudience } from './status-audience.js'

const own = { ownJid: '15550001111@s.whatsapp.net', ownLid: '900@lid' }

describe('buildStatusAudience', () => {
  it('sends to the own JID alone when there are no targets', () => {
    expect(buildStatusAudience({ ...own, targetNumbers: [], resolved: [] })).toEqual({
      statusJidList: ['15550001111@s.whatsapp.net'],
      contactCount: 0,
      lidPairs: [],
    })
  })

  it('uses phone JIDs when the server knows no LIDs, without duplicating the own number', () => {
    const audience = buildStatusAudience({
      ...own,
      targetNumbers: ['15550002222', '15550001111', '15550002222'],
      resolved: [],
    })
    expect(audience.statusJidList).toEqual(['15550001111@s.whatsapp.net', '15550002222@s.whatsapp.net'])
    expect(audience.contactCount).toBe(1)
  })

  it('addresses everyone by LID when LIDs are known, keeping phone JIDs only for unknown ones', () => {
    const audience = buildStatusAudience({
      ...own,
      targetNumbers: ['15550002222', '15550003333'],
      resolved: [{ pn: '15550002222:0@s.whatsapp.net', lid: '222:0@lid' }],
    })
    expect(audience).toEqual({
      statusJidList: ['900@lid', '222@lid', '15550003333@s.whatsapp.net'],
      contactCount: 2,
      lidPairs: [{ lid: '222@lid', pn: '15550002222' }],
    })
  })

  it('stays on phone JIDs when the account itself has no LID', () => {
    const audience = buildStatusAudience({
      ownJid: own.ownJid,
      ownLid: null,
      targetNumbers: ['15550002222'],
      resolved: [{ pn: '15550002222@s.whatsapp.net', lid: '222@lid' }],
    })
    expect(audience.statusJidList).toEqual(['15550001111@s.whatsapp.net', '15550002222@s.whatsapp.net'])
    expect(audience.lidPairs).toEqual([{ lid: '222@lid', pn: '15550002222' }])
  })
})
