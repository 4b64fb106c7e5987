/**
 * A Redis outage under a split deployment of real processes: Redis is killed with SIGKILL (it
 * keeps nothing on disk) and started again empty on the same port. Commands must fail fast and
 * honestly meanwhile, reads from libSQL go on, no process dies or stalls, the WhatsApp session
 * stays up, and once Redis is back everything works again without anyone restarting anything.
 */
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import type { SessionView, StatusView } from '../../shared/schemas.js'
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { ApiClient, type ApiResponse, EventRecorder } from '../e2e/harness.js'
import type { SimAccount } from '../sim/accounts.js'
import { readTlsMaterial } from '../sim/media.js'
import { WaSimulator } from '../sim/server.js'
import { SplitProcesses } from '../support/split-processes.js'

/**
 * Connectors give their sessions up once renewals have failed for 80 % of the lease, so the
 * outage here (a few seconds) must stay well below that to show sessions kept through it.
 */
const LEASE_MS = 12_000
/** How long Redis stays down: far below the 80 % of the lease, far above every reconnect delay. */
const OUTAGE_MS = 3_000
const EVENTUALLY = { timeout: 15_000, interval: 50 }
/** Redis, S3 and three Node processes loading tsx and Baileys on two busy cores, then a QR link. */
const STARTUP_MS = 45_000

type SendReply = { statusId: string; waMessageId: string }

/** A process that stalls must fail the test at once, not hold it until the test timeout. */
const quickly = <T>(work: Promise<T>, ms = 5_000): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

const timed = async <T>(work: Promise<T>): Promise<{ result: T; ms: number }> => {
  const started = Date.now()
  const result = await quickly(work)
  return { result, ms: Date.now() - started }
}

describe('split deployment as processes: Redis dies and comes back empty', () => {
  const sessionId = 'outage'
  let sim: WaSimulator
  let deployment: SplitProcesses
  let api: ApiClient
  let events: EventRecorder
  let owner: SimAccount
  let contact: SimAccount
  /** Logins the simulator saw from the owner's companion after linking: a reconnect shows here. */
  const logins: number[] = []

  beforeAll(async () => {
    sim = await WaSimulator.start({ controlPort: false, tls: await readTlsMaterial(inject('simTlsDir')) })
    owner = sim.createAccount({ phone: '15550072001' })
    contact = sim.createAccount({ phone: '15550072002' })
    deployment = await SplitProcesses.start({
      sim: { wsUrl: sim.wsUrl, uploadHost: sim.uploadHost, caCertPath: sim.caCertPath },
      readyTimeoutMs: 30_000,
      env: { SESSION_LEASE_MS: String(LEASE_MS) },
    })
    api = new ApiClient(deployment.apiUrl, deployment.apiKey)
    events = await EventRecorder.connect(deployment.apiUrl, deployment.apiKey)

    const created = await api.post('/api/sessions', {
      sessionId,
      sessionName: 'Outage',
      authMethod: 'qrcode',
    })
    expect(created.status).toBe(201)
    const { qrCode } = await events.waitFor('qr-code', { sessionId })
    await sim.scanQr(decodeQrDataUrl(qrCode), owner.phone)
    await events.waitFor('connection-status', { sessionId, where: (e) => e.connected })
    // Every login handshake (not a registration) of the owner's companion from now on.
    const onHandshake = sim.onHandshake.bind(sim)
    sim.onHandshake = (conn, result) => {
      if (!result.payload.devicePairingData && String(result.payload.username) === owner.phone) {
        logins.push(Date.now())
      }
      return onHandshake(conn, result)
    }
  }, STARTUP_MS)

  afterAll(async () => {
    events?.close()
    await deployment?.stop()
    await sim?.stop()
  })

  it('answers commands 503 at once, keeps reads and the session up, and recovers by itself', async () => {
    onTestFailed(() => deployment.printLogs())
    const send = (content: string) =>
      api.post<SendReply>(`/api/sessions/${sessionId}/send-status`, {
        type: 'text',
        content,
        targetNumbers: contact.phone,
      })
    const received = (text: string) => sim.receivedStatuses(contact.phone).filter((s) => s.text === text)
    const connectorId = (await api.get<SessionView>(`/api/sessions/${sessionId}/connection-status`)).data
      .connectorId
    expect(deployment.connectorIds).toContain(connectorId)
    expect((await send('outage: before')).status).toBe(200)

    // Sends running on the connector when Redis dies: written to WhatsApp, their ack still to come.
    // The API cannot know how they end, and must not answer "try again" for a status that is out.
    sim.setStatusAck(owner.phone, { delayMs: 2_000 })
    const inFlight = ['outage: in flight 0', 'outage: in flight 1']
    const inFlightReplies = inFlight.map((text) => send(text))
    await vi.waitFor(() => expect(sim.sentStanzas(owner.phone)).toHaveLength(1 + inFlight.length), EVENTUALLY)
    sim.setStatusAck(owner.phone, 'ok')

    await deployment.killRedis()
    const downAt = Date.now()
    const mark = events.mark()
    const refused: string[] = []

    // Commands: refused within a second, saying why; nothing is queued anywhere.
    refused.push('outage: refused while Redis is down')
    const sendDuringOutage = await timed(send('outage: refused while Redis is down'))
    expect(sendDuringOutage.result).toMatchObject({ status: 503, error: Messages.busUnavailable })
    expect(sendDuringOutage.ms).toBeLessThan(1_000)
    const restart = await timed(api.post(`/api/sessions/${sessionId}/restart`))
    expect(restart.result).toMatchObject({ status: 503, error: Messages.busUnavailable })
    expect(restart.ms).toBeLessThan(1_000)

    // Reads come from libSQL and go on.
    const sessions = await quickly(api.get<SessionView[]>('/api/sessions'))
    expect(sessions.status).toBe(200)
    expect(sessions.data.find((s) => s.sessionId === sessionId)).toMatchObject({
      connected: true,
      connectorId,
    })
    const statuses = await quickly(api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`))
    expect(statuses.status).toBe(200)
    expect(statuses.data.map((s) => s.content)).toContain('outage: before')
    // A health report is reused for up to a second and each probe gives up after one
    // (shared/health.ts), so the outage shows within two.
    await vi.waitFor(
      async () => {
        const health = await quickly(
          api.get<{ status: string; components: Record<string, string> }>('/api/health'),
        )
        expect(health).toMatchObject({
          status: 200,
          data: { status: 'degraded', components: { redis: 'down' } },
        })
      },
      { timeout: 3_000, interval: 50 },
    )

    // Every process is alive and answering (a connector is not ready while it cannot reach Redis).
    for (const id of deployment.connectorIds) {
      const response = await fetch(`${deployment.connectorUrl(id)}/health`, {
        signal: AbortSignal.timeout(2_000),
      })
      expect(response.status, id).toBe(503)
      await response.body?.cancel()
    }
    expect(deployment.unexpectedExits()).toEqual([])
    for (const [i, reply] of (await quickly(Promise.all(inFlightReplies))).entries()) {
      const text = inFlight[i] ?? ''
      expect(reply, text).toMatchObject({ status: 504, error: Messages.busLostReply })
      expect(received(text), text).toHaveLength(1)
    }

    // And so it stays while Redis is down for a few seconds (long enough for every Redis client
    // to be deep in its reconnect backoff). Checked every quarter second, failures collected.
    const misses: string[] = []
    const check = async (what: string, work: Promise<ApiResponse<unknown>>, want: number, error?: string) => {
      try {
        const { result, ms } = await timed(work)
        if (result.status !== want || (error && result.error !== error) || (want === 503 && ms >= 1_000)) {
          misses.push(`${what}: ${result.status} ${result.error ?? ''} after ${ms} ms`)
        }
      } catch (cause) {
        misses.push(`${what}: ${cause instanceof Error ? cause.message : cause}`)
      }
    }
    await vi.waitFor(
      async () => {
        const text = `outage: refused ${refused.length}`
        refused.push(text)
        await check(text, send(text), 503, Messages.busUnavailable)
        await check('restart', api.post(`/api/sessions/${sessionId}/restart`), 503, Messages.busUnavailable)
        await check('list sessions', api.get('/api/sessions'), 200)
        if (Date.now() - downAt < OUTAGE_MS) throw new Error('Redis stays down a while longer')
      },
      { timeout: OUTAGE_MS + 10_000, interval: 250 },
    )
    expect(misses).toEqual([])
    expect(deployment.unexpectedExits()).toEqual([])

    await deployment.restartRedis()
    const restartedAt = Date.now()

    // Commands work again within seconds. Each try is a send with its own text, so whichever
    // were refused on the way can be checked to have never run.
    const attempts: { text: string; reply: ApiResponse<SendReply> }[] = []
    await vi.waitFor(
      async () => {
        const text = `outage: try ${attempts.length} after Redis is back`
        const reply = await send(text)
        attempts.push({ text, reply })
        expect(reply.status).toBe(200)
      },
      { timeout: 15_000, interval: 100 },
    )
    const recoveredMs = Date.now() - restartedAt
    expect(recoveredMs).toBeLessThan(10_000)
    for (const { text, reply } of attempts.slice(0, -1)) {
      expect(reply, text).toMatchObject({ status: 503 })
      expect([Messages.busUnavailable, Messages.connectorUnavailable], text).toContain(reply.error)
      refused.push(text)
    }
    const recovered = attempts.at(-1)?.reply as ApiResponse<SendReply>
    // Acked before it is delivered (as WhatsApp does): the contact has it a moment after the answer.
    await vi.waitFor(
      () =>
        expect(received(attempts.at(-1)?.text ?? '').map((s) => s.id)).toEqual([recovered.data.waMessageId]),
      EVENTUALLY,
    )

    // Socket.IO clients of the API hear the connectors again (through the rebuilt streams).
    await events.waitFor('status-sent', {
      sessionId,
      since: mark,
      where: (e) => e.statusId === recovered.data.statusId,
    })
    // One more send: had any refused command been queued after all, it would be through by now
    // (a session's commands start in stream order).
    const last = await send('outage: after')
    expect(last.status).toBe(200)
    await events.waitFor('status-sent', {
      sessionId,
      since: mark,
      where: (e) => e.statusId === last.data.statusId,
    })

    // The session stayed on its connector, connected through the outage: no new login at all (so
    // none of the refused restarts ran either).
    expect(logins).toEqual([])
    expect((await api.get<SessionView>(`/api/sessions/${sessionId}/connection-status`)).data).toMatchObject({
      connected: true,
      status: 'open',
      connectorId,
    })
    // What the 504s could not tell is on record: the acks came while Redis was down.
    const listed = (await api.get<StatusView[]>(`/api/sessions/${sessionId}/sent-statuses`)).data
    expect(inFlight.map((text) => listed.find((s) => s.content === text)?.state)).toEqual(['sent', 'sent'])
    // A command refused during or right after the outage never ran later.
    for (const text of refused) expect(received(text), text).toEqual([])
    expect(
      sim
        .receivedStatuses(contact.phone)
        .map((s) => s.text)
        .sort(),
    ).toEqual(['outage: before', ...inFlight, attempts.at(-1)?.text, 'outage: after'].sort())
    expect(deployment.unexpectedExits()).toEqual([])
    for (const name of ['api', ...deployment.connectorIds])
      expect(deployment.isRunning(name), name).toBe(true)
    await vi.waitFor(async () => {
      for (const id of deployment.connectorIds) {
        const response = await fetch(`${deployment.connectorUrl(id)}/health`)
        await response.body?.cancel()
        expect(response.status, id).toBe(200)
      }
    }, EVENTUALLY)
  })
})
