import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppError } from '../errors.js'
import { LocalMediaStore, verifyUploadSignature } from './local-media-store.js'

let dir: string
let now: number
let store: LocalMediaStore
const SECRET = 'upload-link-secret'
const NAME = '1730000000000-ab12cd34ef56ab78.png'

async function* chunks(...parts: (Uint8Array | Error)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if (part instanceof Error) throw part
    yield part
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-test-'))
  now = 1_730_000_000_000
  store = new LocalMediaStore({
    dir: join(dir, 'media'),
    publicUrl: 'https://wa.example.com/',
    secret: SECRET,
    clock: () => now,
  })
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('LocalMediaStore', () => {
  it('streams a file in, reads it back, and deletes it', async () => {
    expect(
      await store.put(NAME, chunks(Uint8Array.of(1, 2), Uint8Array.of(3)), {
        maxBytes: 3,
        contentType: 'image/png',
      }),
    ).toEqual({
      size: 3,
    })
    expect(await store.exists(NAME)).toBe(true)
    expect(await store.read(NAME)).toEqual(Uint8Array.of(1, 2, 3))
    expect(await readdir(join(dir, 'media'))).toEqual([NAME])
    expect(await store.delete(NAME)).toBe(true)
    expect(await store.delete(NAME)).toBe(false)
    expect(await store.read(NAME)).toBeNull()
    expect(await store.exists(NAME)).toBe(false)
  })

  it('refuses a body past maxBytes with 413 and leaves nothing behind', async () => {
    const error = await store
      .put(NAME, chunks(new Uint8Array(2), new Uint8Array(2)), { maxBytes: 3, contentType: 'image/png' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ code: 'payload_too_large', message: 'File too large' })
    expect(await readdir(join(dir, 'media'))).toEqual([])
  })

  it('leaves nothing behind when the source fails midway', async () => {
    await expect(
      store.put(NAME, chunks(new Uint8Array(2), new Error('client went away')), {
        maxBytes: 10,
        contentType: 'x',
      }),
    ).rejects.toThrow('client went away')
    expect(await readdir(join(dir, 'media'))).toEqual([])
  })

  it('never turns an unsafe name into a path', async () => {
    for (const name of [
      '../escape.png',
      'a/b.png',
      '/etc/passwd',
      'photo.png',
      '',
      '1730000000000-ab12cd34ef56ab78.png/..',
    ]) {
      await expect(
        store.put(name, chunks(Uint8Array.of(1)), { maxBytes: 10, contentType: 'x' }),
      ).rejects.toMatchObject({
        code: 'bad_request',
      })
      expect(await store.read(name)).toBeNull()
      expect(await store.exists(name)).toBe(false)
      expect(await store.delete(name)).toBe(false)
      await expect(
        store.createUploadUrl(name, { contentType: 'image/png', maxBytes: 1, expiresInSeconds: 60 }),
      ).rejects.toThrow()
    }
  })
})

describe('signed upload links', () => {
  const link = async () => {
    const created = await store.createUploadUrl(NAME, {
      contentType: 'image/png',
      maxBytes: 1234,
      expiresInSeconds: 600,
    })
    const url = new URL(created.url)
    const terms = {
      name: url.pathname.split('/').at(-1) ?? '',
      expires: Number(url.searchParams.get('expires')),
      type: url.searchParams.get('type') ?? '',
      max: Number(url.searchParams.get('max')),
    }
    return { created, url, terms, sig: url.searchParams.get('sig') ?? '' }
  }

  it('points at the API with its terms and a signature that verifies', async () => {
    const { created, url, terms, sig } = await link()
    expect(url.origin + url.pathname).toBe(`https://wa.example.com/api/uploads/${NAME}`)
    expect(terms).toEqual({ name: NAME, expires: now / 1000 + 600, type: 'image/png', max: 1234 })
    expect(created).toMatchObject({
      method: 'PUT',
      headers: { 'Content-Type': 'image/png' },
      expiresAt: now + 600_000,
    })
    expect(await verifyUploadSignature(terms, sig, SECRET, now)).toBe('ok')
  })

  it('fails verification when any term, the secret or the signature changes, and after expiry', async () => {
    const { terms, sig } = await link()
    expect(await verifyUploadSignature({ ...terms, max: 99999 }, sig, SECRET, now)).toBe('invalid')
    expect(await verifyUploadSignature({ ...terms, type: 'video/mp4' }, sig, SECRET, now)).toBe('invalid')
    expect(
      await verifyUploadSignature({ ...terms, name: '1730000000000-ffffffffffffffff.png' }, sig, SECRET, now),
    ).toBe('invalid')
    expect(await verifyUploadSignature({ ...terms, expires: terms.expires + 1 }, sig, SECRET, now)).toBe(
      'invalid',
    )
    expect(await verifyUploadSignature(terms, sig, 'another-secret', now)).toBe('invalid')
    expect(
      await verifyUploadSignature(terms, `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`, SECRET, now),
    ).toBe('invalid')
    expect(await verifyUploadSignature(terms, 'not base64!', SECRET, now)).toBe('invalid')
    expect(await verifyUploadSignature(terms, 'A', SECRET, now)).toBe('invalid')
    expect(await verifyUploadSignature(terms, sig, SECRET, terms.expires * 1000)).toBe('expired')
  })
})
