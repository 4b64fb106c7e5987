/**
 * JSON control API over HTTP, so a demo or a test in another process can drive the simulator:
 *
 *   GET  /health                                  → { ok, wsUrl, uploadHost, caCertPath }
 *   GET  /accounts                                → [{ phone, lid, devices, linked }]
 *   POST /accounts { phone, lid?, pushName?, devices? }
 *   POST /accounts/:phone/scan-qr { qr }          → { jid, lid }
 *   POST /accounts/:phone/pairing-code { code }   → { jid, lid }
 *   POST /accounts/:phone/companions { noiseKey, identityKey, advSecret, registrationId,
 *        signedPreKey: { id, publicKey, signature }, preKeys?: [{ id, publicKey }] }  (bytes in base64)
 *                                                 → { deviceId, jid, lid, platform, deviceIdentity }
 *        links a companion whose keys were made offline (registered-creds.ts builds the body and
 *        applies the answer to Baileys creds)
 *   PUT  /accounts/:phone/status-ack { mode: 'ok' | 'none' | { error?, delayMs? } }
 *   PUT  /accounts/:phone/query-delay { delayMs }      (usync and key-bundle answers this late)
 *   GET  /accounts/:phone/statuses                → statuses its devices decrypted
 *   GET  /accounts/:phone/sent                    → status stanzas its clients sent
 *   POST /accounts/:phone/kick { kind, deviceId? } (kind: logout|replaced|restart|unavailable|drop|<code>)
 *   POST /views { contact, owner, id, type?, asLid? }
 *   POST /views/burst { owner, id, viewers: [phone | { phone, type?, asLid? }], type?, asLid? }
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { StatusAckMode } from './accounts.js'
import type { KickKind, WaSimulator } from './server.js'

export interface ControlServer {
  url: string
  close(): Promise<void>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

type Body = Record<string, unknown>
type Handler = (sim: WaSimulator, params: string[], body: Body) => Promise<unknown> | unknown

const routes: [method: string, pattern: RegExp, handler: Handler][] = [
  [
    'GET',
    /^\/health$/,
    (sim) => ({ ok: true, wsUrl: sim.wsUrl, uploadHost: sim.uploadHost, caCertPath: sim.caCertPath }),
  ],
  [
    'GET',
    /^\/accounts$/,
    (sim) =>
      sim.accounts.all().map((a) => ({
        phone: a.phone,
        lid: a.lidJid() ?? null,
        devices: a.activeDevices().map((d) => d.id),
        linked: sim.linkedDevices(a.phone),
      })),
  ],
  [
    'POST',
    /^\/accounts$/,
    (sim, _p, body) => {
      const account = sim.createAccount({
        phone: requireString(body, 'phone'),
        lid: body.lid === false ? false : optionalString(body, 'lid'),
        pushName: optionalString(body, 'pushName'),
        devices: typeof body.devices === 'number' ? body.devices : undefined,
      })
      return { phone: account.phone, lid: account.lidJid() ?? null }
    },
  ],
  [
    'POST',
    /^\/accounts\/(\d+)\/scan-qr$/,
    (sim, [phone], body) => sim.scanQr(requireString(body, 'qr'), phone!),
  ],
  [
    'POST',
    /^\/accounts\/(\d+)\/pairing-code$/,
    (sim, [phone], body) => sim.enterPairingCode(phone!, requireString(body, 'code')),
  ],
  [
    'POST',
    /^\/accounts\/(\d+)\/companions$/,
    (sim, [phone], body) => {
      const signedPreKey = body.signedPreKey
      if (typeof signedPreKey !== 'object' || signedPreKey === null)
        throw new HttpError(400, 'signedPreKey is required')
      const preKey = signedPreKey as Body
      const registrationId = body.registrationId
      if (typeof registrationId !== 'number' || typeof preKey.id !== 'number')
        throw new HttpError(400, 'registrationId and signedPreKey.id must be numbers')
      const preKeys = body.preKeys
      if (preKeys !== undefined && !Array.isArray(preKeys))
        throw new HttpError(400, 'preKeys must be an array')
      const answer = sim.registerCompanion(phone!, {
        noiseKey: requireBytes(body, 'noiseKey'),
        identityKey: requireBytes(body, 'identityKey'),
        advSecret: requireBytes(body, 'advSecret'),
        registrationId,
        signedPreKey: {
          id: preKey.id,
          publicKey: requireBytes(preKey, 'publicKey'),
          signature: requireBytes(preKey, 'signature'),
        },
        ...(preKeys
          ? {
              preKeys: (preKeys as Body[]).map((key) => {
                if (typeof key.id !== 'number') throw new HttpError(400, 'preKeys[].id must be a number')
                return { id: key.id, publicKey: requireBytes(key, 'publicKey') }
              }),
            }
          : {}),
      })
      return { ...answer, lid: answer.lid ?? null, deviceIdentity: answer.deviceIdentity.toString('base64') }
    },
  ],
  [
    'PUT',
    /^\/accounts\/(\d+)\/status-ack$/,
    (sim, [phone], body) => {
      sim.setStatusAck(phone!, parseAckMode(body.mode))
      return { ok: true }
    },
  ],
  [
    'PUT',
    /^\/accounts\/(\d+)\/query-delay$/,
    (sim, [phone], body) => {
      const delayMs = body.delayMs
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0)
        throw new HttpError(400, 'delayMs must be a number ≥ 0')
      sim.setQueryDelay(phone!, delayMs)
      return { ok: true }
    },
  ],
  [
    'GET',
    /^\/accounts\/(\d+)\/statuses$/,
    (sim, [phone]) => sim.receivedStatuses(phone!).map(({ message: _message, ...status }) => status),
  ],
  ['GET', /^\/accounts\/(\d+)\/sent$/, (sim, [phone]) => sim.sentStanzas(phone!)],
  [
    'POST',
    /^\/accounts\/(\d+)\/kick$/,
    async (sim, [phone], body) => ({
      connections: await sim.kick(
        phone!,
        parseKick(body.kind),
        typeof body.deviceId === 'number' ? body.deviceId : undefined,
      ),
    }),
  ],
  [
    'POST',
    /^\/views$/,
    (sim, _p, body) =>
      sim.view(requireString(body, 'contact'), requireString(body, 'owner'), requireString(body, 'id'), {
        type: body.type === 'played' ? 'played' : 'read',
        asLid: body.asLid === true,
      }),
  ],
  [
    'POST',
    /^\/views\/burst$/,
    (sim, _p, body) => {
      if (!Array.isArray(body.viewers)) throw new HttpError(400, 'viewers must be an array')
      return sim.viewBurst(requireString(body, 'owner'), requireString(body, 'id'), body.viewers as never, {
        type: body.type === 'played' ? 'played' : 'read',
        asLid: body.asLid === true,
      })
    },
  ],
]

export async function startControlServer(sim: WaSimulator, port: number): Promise<ControlServer> {
  const server: Server = createServer(async (req, res) => {
    let status = 200
    let payload: unknown
    try {
      const path = new URL(req.url ?? '/', 'http://sim').pathname
      const route = routes.find(([method, pattern]) => method === req.method && pattern.test(path))
      if (!route) throw new HttpError(404, 'no such endpoint')
      const params = route[1].exec(path)!.slice(1)
      payload = await route[2](sim, params, await readJson(req))
    } catch (err) {
      status = err instanceof HttpError ? err.status : 400
      payload = { error: err instanceof Error ? err.message : String(err) }
    }
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(payload ?? null))
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function readJson(req: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  if (!chunks.length) return {}
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new HttpError(400, 'body must be an object')
  return parsed as Body
}

function requireString(body: Body, key: string): string {
  const value = body[key]
  if (typeof value !== 'string' || !value) throw new HttpError(400, `${key} is required`)
  return value
}

function requireBytes(body: Body, key: string): Buffer {
  return Buffer.from(requireString(body, key), 'base64')
}

function optionalString(body: Body, key: string): string | undefined {
  const value = body[key]
  return typeof value === 'string' ? value : undefined
}

function parseAckMode(mode: unknown): StatusAckMode {
  if (mode === 'ok' || mode === 'none') return mode
  if (typeof mode === 'object' && mode) {
    const { error, delayMs } = mode as { error?: unknown; delayMs?: unknown }
    const validDelay = typeof delayMs === 'number' && Number.isFinite(delayMs) && delayMs >= 0
    if (typeof error === 'number' && (delayMs === undefined || validDelay)) {
      return validDelay ? { error, delayMs: delayMs as number } : { error }
    }
    if (error === undefined && validDelay) return { delayMs: delayMs as number }
  }
  throw new HttpError(400, "mode must be 'ok', 'none' or { error?: number, delayMs?: number }")
}

function parseKick(kind: unknown): KickKind {
  if (
    kind === 'logout' ||
    kind === 'replaced' ||
    kind === 'restart' ||
    kind === 'unavailable' ||
    kind === 'drop'
  )
    return kind
  if (typeof kind === 'number') return { streamErrorCode: kind }
  throw new HttpError(400, 'kind must be logout|replaced|restart|unavailable|drop or a stream error code')
}
