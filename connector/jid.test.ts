import { describe, expect, it } from 'vitest'
import { decodeJid, isLidJid, jidUser, normalizeUserJid } from './jid.js'

/** What the helpers read from a JID, by splitting it apart (how they were first written). */
const bySplitting = (jid: string) => {
  const at = jid.indexOf('@')
  if (at < 0) return null
  const server = jid.slice(at + 1)
  const [userAgent = '', device] = jid.slice(0, at).split(':')
  const user = userAgent.split('_')[0] ?? ''
  if (!user) return null
  return { user, server, device: device === undefined ? undefined : Number(device) }
}

const JIDS = [
  '15550001111@s.whatsapp.net',
  '15550001111:3@s.whatsapp.net',
  '15550001111:3:7@s.whatsapp.net',
  '15550001111_1:3@s.whatsapp.net',
  '15550001111_1@s.whatsapp.net',
  '15550001111:@s.whatsapp.net',
  '90000000001@lid',
  '90000000001:12@lid',
  '777@hosted.lid',
  '777:2@hosted',
  '15550001111@c.us',
  'status@broadcast',
  '120363000000000000@g.us',
  '@s.whatsapp.net',
  ':3@s.whatsapp.net',
  '_1@lid',
  'no-at-sign',
  'a@b@c',
  'a_b@x:y',
]

describe('JID helpers', () => {
  it('read every form as splitting it apart does', () => {
    for (const jid of JIDS) expect(decodeJid(jid), jid).toEqual(bySplitting(jid))
    expect(decodeJid(null)).toBeNull()
    expect(decodeJid('')).toBeNull()
  })

  it('normalise to user@server without agent or device, the usual forms as they are', () => {
    const plain = '15550001111@s.whatsapp.net'
    expect(normalizeUserJid(plain)).toBe(plain)
    expect(normalizeUserJid('90000000001@lid')).toBe('90000000001@lid')
    expect(normalizeUserJid('15550001111:3@s.whatsapp.net')).toBe(plain)
    expect(normalizeUserJid('15550001111_1:3@s.whatsapp.net')).toBe(plain)
    expect(normalizeUserJid('15550001111@c.us')).toBe(plain)
    expect(normalizeUserJid('777:2@hosted')).toBe('777@s.whatsapp.net')
    expect(normalizeUserJid('777@hosted.lid')).toBe('777@lid')
    expect(normalizeUserJid('90000000001:12@lid')).toBe('90000000001@lid')
    expect(normalizeUserJid('status@broadcast')).toBe('status@broadcast')
    expect(normalizeUserJid('@s.whatsapp.net')).toBeNull()
    expect(normalizeUserJid(undefined)).toBeNull()
    expect(jidUser('15550001111:3@s.whatsapp.net')).toBe('15550001111')
    expect(isLidJid('90000000001:12@lid')).toBe(true)
    expect(isLidJid('777@hosted.lid')).toBe(true)
    expect(isLidJid('15550001111@s.whatsapp.net')).toBe(false)
  })
})
