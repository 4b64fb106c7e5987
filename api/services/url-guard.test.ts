import { describe, expect, it, vi } from 'vitest'
import { AppError, Messages } from '../../shared/errors.js'
import { assertPublicMediaUrl } from './url-guard.js'

const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AppError)
  return (error as AppError).message
}

describe('assertPublicMediaUrl', () => {
  it('accepts a public http(s) URL after resolving its host', async () => {
    const resolve = vi.fn(async () => ['93.184.215.14'])
    const url = await assertPublicMediaUrl(' https://cdn.example.org/a.mp4 ', resolve)
    expect(url.href).toBe('https://cdn.example.org/a.mp4')
    expect(resolve).toHaveBeenCalledWith('cdn.example.org')
  })

  it('checks literal hosts without DNS, in every spelling URL parsing normalises', async () => {
    const resolve = vi.fn(async () => ['93.184.215.14'])
    for (const raw of [
      'http://0x7f.1/',
      'http://017700000001/',
      'http://[0:0:0:0:0:ffff:127.0.0.1]/',
      'http://localhost./',
    ]) {
      expect(await refusal(assertPublicMediaUrl(raw, resolve))).toBe(Messages.urlNonPublic)
    }
    expect(resolve).not.toHaveBeenCalled()
    await expect(assertPublicMediaUrl('http://8.8.8.8/x.jpg', resolve)).resolves.toBeInstanceOf(URL)
  })

  it('refuses a name when any address it resolves to is private', async () => {
    expect(
      await refusal(assertPublicMediaUrl('https://a.example/', async () => ['8.8.8.8', '192.168.0.4'])),
    ).toBe(Messages.urlNonPublic)
  })

  it('refuses names that do not resolve, or resolve to nothing', async () => {
    const fail = async () => {
      throw new Error('ENOTFOUND')
    }
    expect(await refusal(assertPublicMediaUrl('https://a.example/', fail))).toBe(Messages.urlUnresolvable)
    expect(await refusal(assertPublicMediaUrl('https://a.example/', async () => []))).toBe(
      Messages.urlUnresolvable,
    )
  })

  it('without a resolver checks the literal host only', async () => {
    await expect(assertPublicMediaUrl('https://a.example/', undefined)).resolves.toBeInstanceOf(URL)
    expect(await refusal(assertPublicMediaUrl('http://10.0.0.1/', undefined))).toBe(Messages.urlNonPublic)
  })
})
