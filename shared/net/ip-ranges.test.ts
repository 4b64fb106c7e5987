import { describe, expect, it } from 'vitest'
import { ipFamily, isNonPublicAddress, rateLimitKeyForAddress } from './ip-ranges.js'

describe('isNonPublicAddress', () => {
  it.each([
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '100.100.100.200',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.2.10',
    '192.168.1.1',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::127.0.0.1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::10.0.0.1',
    '2002:0a00:0001::1',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1%eth0',
    'ff02::1',
    '2001:db8::1',
    '[::1]',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isNonPublicAddress(address)).toBe(true)
  })

  it.each([
    '8.8.8.8',
    '93.184.215.14',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
  ])('allows %s', (address) => {
    expect(isNonPublicAddress(address)).toBe(false)
  })
})

describe('ipFamily', () => {
  it('tells IP literals from names', () => {
    expect(ipFamily('1.2.3.4')).toBe(4)
    expect(ipFamily('2001:db8::1')).toBe(6)
    expect(ipFamily('1.2.3.256')).toBeNull()
    expect(ipFamily('example.com')).toBeNull()
    expect(ipFamily('1:2:3:4:5:6:7:8:9')).toBeNull()
    expect(ipFamily('1::2::3')).toBeNull()
  })
})

describe('rateLimitKeyForAddress', () => {
  it('groups IPv6 by /64 and unwraps IPv4-mapped addresses', () => {
    expect(rateLimitKeyForAddress('203.0.113.9')).toBe('203.0.113.9')
    expect(rateLimitKeyForAddress('::ffff:203.0.113.9')).toBe('203.0.113.9')
    expect(rateLimitKeyForAddress('2001:db8:1:2:aaaa::1')).toBe(
      rateLimitKeyForAddress('2001:db8:1:2:bbbb::2'),
    )
    expect(rateLimitKeyForAddress('2001:db8:1:2::1')).not.toBe(rateLimitKeyForAddress('2001:db8:1:3::1'))
  })
})
