import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import type { StatusView } from '../../shared/schemas.js'
import type { SimAccount } from '../sim/accounts.js'
import {
  EVENTUALLY,
  linkByPairingCode,
  linkByQr,
  MODES,
  type Product,
  startTestbed,
  type Testbed,
} from './harness.js'
import { pngImage } from './media-fixtures.js'

interface SendReply {
  statusId: string
  waMessageId: string
}

describe.each(MODES)('deleting sessions and statuses, and retention (%s)', (mode) => {
  const sessionId = 'tidy'
  let bed: Testbed
  let owner: SimAccount
  let contact: SimAccount

  beforeEach(async () => {
    bed = await startTestbed({ mode })
    owner = bed.sim.createAccount({ phone: '15550006001' })
    contact = bed.sim.createAccount({ phone: '15550006002' })
  })

  afterEach(async () => {
    await bed?.close()
  })

  const linkedProduct = async (env?: Record<string, string>, link = linkByQr) => {
    const product = await bed.startProduct(env ? { env } : {})
    await link(product, bed.sim, { sessionId, phone: owner.phone })
    return product
  }

  const postImage = async (product: Product, label: string) => {
    const filename = await product.api.upload('image', await pngImage(label), `${label}.png`)
    const sent = await product.api.post<SendReply>(`/api/sessions/${sessionId}/send-status`, {
      type: 'image',
      content: filename,
      targetNumbers: contact.phone,
    })
    expect(sent.status).toBe(200)
    return { ...sent.data, filename }
  }

  const postText = async (product: Product, content: string) => {
    const sent = await product.api.post<SendReply>(`/api/sessions/${sessionId}/send-status`, {
      type: 'text',
      content,
      targetNumbers: contact.phone,
    })
    expect(sent.status).toBe(200)
    return sent.data
  }

  const listed = async (product: Product) =>
    (await product.api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`)).data.map((s) => s.id)

  it('deletes a session: logs the device out, removes its data and announces it', async () => {
    const product = await linkedProduct(undefined, linkByPairingCode)
    const image = await postImage(product, 'farewell')
    expect(await product.mediaExists(image.filename)).toBe(true)
    const since = product.events.mark()

    expect(await product.api.delete(`/api/sessions/${sessionId}`)).toMatchObject({
      status: 200,
      data: { sessionId, message: 'Session deleted successfully' },
    })
    expect(await product.events.waitFor('session-deleted', { since })).toEqual({ sessionId })
    // The phone no longer lists the device: it was logged out, not just disconnected.
    expect(bed.sim.linkedDevices(owner.phone)).toEqual([])
    await vi.waitFor(() => expect(bed.sim.isOnline(owner.phone)).toBe(false), EVENTUALLY)

    expect(await product.api.get(`/api/sessions/${sessionId}/connection-status`)).toMatchObject({
      status: 404,
      error: Messages.sessionNotFound,
    })
    expect(await product.api.get(`/api/sessions/${sessionId}/sent-statuses`)).toMatchObject({ status: 404 })
    const sessions = await product.api.get<{ sessionId: string }[]>('/api/sessions')
    expect(sessions.data.map((s) => s.sessionId)).not.toContain(sessionId)
    const storage = await product.api.get<{ sessions: { sessionId: string }[] }>('/api/storage')
    expect(storage.data.sessions.map((s) => s.sessionId)).not.toContain(sessionId)
    expect(await product.mediaExists(image.filename)).toBe(false)
  })

  it('deletes a status locally: gone from lists and viewers, later views ignored', async () => {
    const product = await linkedProduct()
    const doomed = await postImage(product, 'doomed')
    const kept = await postText(product, 'kept')
    const since = product.events.mark()

    expect(
      await product.api.delete(`/api/sessions/${sessionId}/delete-status/${doomed.statusId}`),
    ).toMatchObject({
      status: 200,
      data: {
        statusId: doomed.statusId,
        deletedFromWhatsApp: false,
        deletedFromDatabase: true,
        deletedImageFile: true,
      },
    })
    expect(await product.events.waitFor('status-deleted', { since })).toEqual({
      sessionId,
      statusId: doomed.statusId,
    })
    await product.events.waitFor('statuses-updated', {
      sessionId,
      since,
      where: (e) => e.action === 'deleted',
    })
    expect(await listed(product)).toEqual([kept.statusId])
    expect(
      await product.api.get(`/api/sessions/${sessionId}/status-viewers/${doomed.statusId}`),
    ).toMatchObject({ status: 404, error: Messages.statusNotFound })
    expect(await product.mediaExists(doomed.filename)).toBe(false)
    expect(
      await product.api.delete(`/api/sessions/${sessionId}/delete-status/${doomed.statusId}`),
    ).toMatchObject({ status: 404, error: Messages.statusNotFound })

    // The contact still has the status on the phone and views both; only the kept one counts.
    await bed.sim.view(contact.phone, owner.phone, doomed.waMessageId)
    await bed.sim.view(contact.phone, owner.phone, kept.waMessageId)
    await product.events.waitFor('status-viewers-update', {
      sessionId,
      since,
      where: (e) => e.statusId === kept.statusId,
    })
    expect(
      product.events.of('status-viewers-update', { since, where: (e) => e.statusId === doomed.statusId }),
    ).toEqual([])
  })

  it('removes statuses past retention with their viewers and media, and announces the cleanup', async () => {
    // Statuses live three seconds; the retention job runs every second.
    const product = await linkedProduct({
      STATUS_RETENTION_HOURS: String(3 / 3600),
      CLEANUP_INTERVAL_MS: '1000',
    })
    const since = product.events.mark()
    const image = await postImage(product, 'ephemeral')
    await bed.sim.view(contact.phone, owner.phone, image.waMessageId)
    await product.events.waitFor('status-viewers-update', { sessionId, since })

    expect(
      await product.events.waitFor('statuses-updated', {
        sessionId,
        since,
        where: (e) => e.action === 'cleanup',
      }),
    ).toMatchObject({ message: 'Statuses updated' })
    expect(await listed(product)).toEqual([])
    expect(
      await product.api.get(`/api/sessions/${sessionId}/status-viewers/${image.statusId}`),
    ).toMatchObject({ status: 404, error: Messages.statusNotFound })
    const storage = await product.api.get<{
      sessions: { sessionId: string; statuses: number; viewers: number }[]
    }>('/api/storage')
    expect(storage.data.sessions.find((s) => s.sessionId === sessionId)).toMatchObject({
      statuses: 0,
      viewers: 0,
    })
    expect(await product.mediaExists(image.filename)).toBe(false)
    // The session itself is untouched.
    expect((await product.api.get(`/api/sessions/${sessionId}/connection-status`)).data).toMatchObject({
      connected: true,
    })
  })
})
