import { describe, expect, it } from 'vitest'
import { nodeHostResolver } from './host-resolver.js'

describe('nodeHostResolver', () => {
  it('returns every address of a name (localhost, from the hosts file)', async () => {
    const addresses = await nodeHostResolver('localhost')
    expect(addresses.length).toBeGreaterThan(0)
    expect(addresses.some((a) => a === '127.0.0.1' || a === '::1')).toBe(true)
  })
})
