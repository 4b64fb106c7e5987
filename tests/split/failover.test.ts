/**
 * Failover with real processes: the connector holding a linked session is killed with SIGKILL
 * (no shutdown code runs, its leases simply stop being renewed) while status sends are in flight.
 * The other connector must take the session over from the stored credentials, and no status may
 * reach WhatsApp twice, whatever happened to the command that carried it.
 */
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed, vi } from 'vitest'
import { Messages } from '../../shared/errors.js'
import type { SessionView } from '../../shared/schemas.js'
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { ApiClient, type ApiResponse, EventRecorder } from '../e2e/harness.js'
import type { SimAccount } from '../sim/accounts.js'
import { readTlsMaterial } from '../sim/media.js'
import { WaSimulator } from '../sim/server.js'
import { SplitProcesses } from '../support/split-processes.js'

const LEASE_MS = 3_000
/** Lease expiry, one placement round (a third of the lease) and a login, with room for two busy cores. */
const TAKEOVER_WITHIN_MS = LEASE_MS + 5_000
const EVENTUALLY = { timeout: 15_000, interval: 50 }
/** Redis, S3 and three Node processes loading tsx and Baileys on two busy cores, then a QR link. */
const STARTUP_MS = 45_000

type ConnectionStatus = Pick<SessionView, 'connected' | 'status' | 'connectorId'>
type SendReply = { statusId: string; waMessageId: string }

/** What a send that did not succeed may answer: each says the status was not (knowingly) posted. */
const CLEAR_ERRORS: (string | undefined)[] = [
  Messages.commandInterrupted,
  Messages.connectorUnavailable,
  Messages.connectorTimeout,
  Messages.busUnavailable,
]

describe('split deployment as processes: a connector killed mid-send', () => {
  let sim: WaSimulator
  let deployment: SplitProcesses
  let api: ApiClient
  let events: EventRecorder
  let owner: SimAccount
  let contact: SimAccount

  beforeAll(async () => {
    sim = await WaSimulator.start({ controlPort: false, tls: await readTlsMaterial(inject('simTlsDir')) })
    owner = sim.createAccount({ phone: '15550071001' })
    contact = sim.createAccount({ phone: '15550071002' })
    deployment = await SplitProcesses.start({
      sim: { wsUrl: sim.wsUrl, uploadHost: sim.uploadHost, caCertPath: sim.caCertPath },
      readyTimeoutMs: 30_000,
      env: { SESSION_LEASE_MS: String(LEASE_MS), STATUS_ACK_TIMEOUT_MS: '10000' },
    })
    api = new ApiClient(deployment.apiUrl, deployment.apiKey)
    events = await EventRecorder.connect(deployment.apiUrl, deployment.apiKey)
  }, STARTUP_MS)

  afterAll(async () => {
    events?.close()
    await deployment?.stop()
    await sim?.stop()
  })

  it('takes the session over on the other connector without a new QR and posts no status twice', async () => {
    onTestFailed(() => deployment.printLogs())
    const sessionId = 'failover'
    const status = async () =>
      (await api.get<ConnectionStatus>(`/api/sessions/${sessionId}/connection-status`)).data

    // Linked by QR through the API: the image from the event, scanned by the simulated phone.
    const created = await api.post('/api/sessions', {
      sessionId,
      sessionName: 'Failover',
      authMethod: 'qrcode',
    })
    expect(created.status).toBe(201)
    const { qrCode } = await events.waitFor('qr-code', { sessionId })
    await sim.scanQr(decodeQrDataUrl(qrCode), owner.phone)
    await events.waitFor('connection-status', { sessionId, where: (e) => e.connected })
    const before = await status()
    expect(before).toMatchObject({ connected: true, status: 'open' })
    const victim = before.connectorId
    const survivor = deployment.connectorIds.find((id) => id !== victim)
    expect(deployment.connectorIds).toContain(victim)
    expect(survivor).toBeDefined()
    const devices = sim.linkedDevices(owner.phone)
    expect(devices).toHaveLength(1)

    const send = (content: string) =>
      api.post<SendReply>(`/api/sessions/${sessionId}/send-status`, {
        type: 'text',
        content,
        targetNumbers: contact.phone,
      })
    expect((await send('failover: before the kill')).status).toBe(200)

    // Acks held back, so the sends are written to WhatsApp and waiting for their verdict, inside
    // the connector, when it dies. Each text is unique: what the contact got says what ran.
    sim.setStatusAck(owner.phone, { delayMs: 60_000 })
    const inFlight = Array.from({ length: 4 }, (_, i) => `failover: in flight ${i}`)
    const inFlightReplies = inFlight.map((text) => send(text))
    await vi.waitFor(() => expect(sim.sentStanzas(owner.phone).length).toBeGreaterThanOrEqual(3), EVENTUALLY)

    const mark = events.mark()
    const killedAt = Date.now()
    expect(await deployment.kill(victim ?? '', 'SIGKILL')).toMatchObject({ signal: 'SIGKILL' })
    sim.setStatusAck(owner.phone, 'ok')
    // Accepted while the session has no live owner: they wait in its stream for the next one.
    const queued = Array.from({ length: 2 }, (_, i) => `failover: queued after the kill ${i}`)
    const queuedReplies = queued.map((text) => send(text))

    // The survivor takes the lease once it runs out and logs in with the stored credentials.
    await vi.waitFor(
      async () =>
        expect(await status()).toMatchObject({ connected: true, status: 'open', connectorId: survivor }),
      { timeout: TAKEOVER_WITHIN_MS + 2_000, interval: 50 },
    )
    const tookOverMs = Date.now() - killedAt
    expect(tookOverMs).toBeLessThan(TAKEOVER_WITHIN_MS)
    await events.waitFor('connection-status', { sessionId, since: mark, where: (e) => e.connected })
    // The same linked device, back online; no QR was shown.
    expect(events.of('qr-code', { sessionId, since: mark })).toEqual([])
    expect(sim.linkedDevices(owner.phone)).toEqual(devices)
    expect(sim.connectionDetails(owner.phone).map((c) => c.deviceId)).toEqual(devices)

    // Every command got one answer: a success, or an error that says the outcome is not a success.
    const answers = new Map<string, ApiResponse<SendReply>>()
    const all = [...inFlight, ...queued]
    for (const [i, reply] of (await Promise.all([...inFlightReplies, ...queuedReplies])).entries()) {
      answers.set(all[i] ?? '', reply)
    }
    for (const [text, reply] of answers) {
      expect([200, 503, 504], `${text}: ${reply.status} ${reply.error}`).toContain(reply.status)
      if (reply.status !== 200) expect(CLEAR_ERRORS, `${text}: ${reply.error}`).toContain(reply.error)
    }
    // Queued while nobody held the session: run by the new owner once its socket is open.
    for (const text of queued) expect(answers.get(text)?.status, text).toBe(200)

    // And none ran twice: one stanza per text at most, exactly one for each success. The server
    // acks a stanza before it delivers it (as WhatsApp does), so a success reaches the contact
    // a moment after its answer.
    const received = (text: string) => sim.receivedStatuses(contact.phone).filter((s) => s.text === text)
    await vi.waitFor(() => {
      for (const [text, reply] of answers) {
        if (reply.status === 200) {
          // What the simulator saw of that stanza, to tell a stanza addressed to nobody from one the
          // contact could not decrypt (a Signal session the killed connector left half written).
          const id = reply.data.waMessageId
          const stanza = sim.sentStanzas(owner.phone).filter((sent) => sent.id === id)
          const why = JSON.stringify({
            recipients: stanza.map((sent) => sent.recipients),
            decryptErrors: sim.messages.decryptErrors.filter((error) => error.id === id),
          })
          expect(
            received(text).map((s) => s.id),
            `${text}: ${why}`,
          ).toEqual([id])
        }
      }
    }, EVENTUALLY)
    for (const text of answers.keys()) expect(received(text).length, text).toBeLessThanOrEqual(1)
    const stanzaIds = sim.sentStanzas(owner.phone).map((s) => s.id)
    expect(new Set(stanzaIds).size).toBe(stanzaIds.length)
    expect(sim.receivedStatuses(contact.phone).map((s) => s.id)).toEqual(stanzaIds)

    // The session works on its new connector.
    const after = await send('failover: after the takeover')
    expect(after.status).toBe(200)
    expect(received('failover: after the takeover').map((s) => s.id)).toEqual([after.data.waMessageId])
    expect(await status()).toMatchObject({ connectorId: survivor })
    expect(deployment.isRunning(survivor ?? '')).toBe(true)
    expect(deployment.unexpectedExits()).toEqual([])
  })
})
