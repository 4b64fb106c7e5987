import { afterEach, describe, expect, it, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import { createHarness, type Harness } from '../test-harness.js'

let h: Harness
afterEach(async () => {
  await h?.cleanup()
})

const NUMBERS = ['15550002222', '15550003333', '15550004444']

/** One linked, open session whose sends of more than two numbers are jobs of two per chunk. */
const openSession = async () => {
  h = await createHarness({
    env: {
      STATUS_JOB_THRESHOLD: '2',
      STATUS_CHUNK_SIZE: '2',
      STATUS_CHUNK_PAUSE_MS: '0',
      STATUS_CHUNK_RETRY_MS: '0',
    },
  })
  const session = await h.addSession({ phoneNumber: '15550001111' })
  const { second: sock } = await h.linkAndOpen(session.id)
  const start = () =>
    h.bus.send(session.id, 'status.startJob', {
      sessionId: session.id,
      type: 'text',
      content: 'To many',
      targetNumbers: NUMBERS,
    })
  return { sessionId: session.id, sock, start }
}

describe('a status job', () => {
  it('sends a chunk whose connection dropped again, same id, once the session is back', async () => {
    const { sessionId, sock, start } = await openSession()
    const { jobId, waMessageId } = await start()
    await vi.waitFor(() => expect(sock.relayed).toHaveLength(1))
    expect(sock.relayed[0]).toMatchObject({ jid: 'status@broadcast', messageId: waMessageId })
    sock.ack(waMessageId)
    await vi.waitFor(() => expect(sock.relayed).toHaveLength(2))
    // Chunk 2 is on the wire when the connection drops: no verdict, so it goes again.
    sock.closeWith(428, 'Connection Closed')
    const next = await vi.waitFor(
      () => {
        const latest = h.wa.latest()
        expect(latest).not.toBe(sock)
        return latest
      },
      { timeout: 10_000 },
    )
    next.open()
    await vi.waitFor(() => expect(next.relayed).toHaveLength(1), { timeout: 10_000 })
    expect(next.relayed[0]?.messageId).toBe(waMessageId)
    next.ack(waMessageId)
    await vi.waitFor(async () => expect((await h.repos.statusJobs.get(jobId))?.state).toBe('completed'))
    const job = await h.repos.statusJobs.get(jobId)
    expect(job?.chunks.map(({ state, attempts, error }) => ({ state, attempts, error }))).toEqual([
      { state: 'sent', attempts: 1, error: null },
      { state: 'sent', attempts: 2, error: Messages.sendConnectionClosed },
    ])
    // The row is saved before the last event goes out.
    await vi.waitFor(() =>
      expect(h.eventsOf('status-send-progress', sessionId).at(-1)).toMatchObject({
        jobId,
        state: 'completed',
        recipientsSent: 3,
      }),
    )
  })

  it('ends as cancelled when its status is deleted meanwhile, sending nothing more', async () => {
    const { sessionId, sock, start } = await openSession()
    const { jobId, statusId, waMessageId } = await start()
    await vi.waitFor(() => expect(sock.relayed).toHaveLength(1))
    await h.repos.statuses.delete(sessionId, statusId)
    sock.ack(waMessageId)
    await vi.waitFor(async () => expect((await h.repos.statusJobs.get(jobId))?.state).toBe('cancelled'))
    await vi.waitFor(() =>
      expect(h.eventsOf('status-send-progress', sessionId).at(-1)).toMatchObject({ state: 'cancelled' }),
    )
    expect(sock.relayed).toHaveLength(1)
    expect(h.eventsOf('status-sent', sessionId)).toEqual([])
  })
})
