/**
 * The "simulated phone" URL of the demo: one HTTP endpoint for everything a person would do on their
 * phone. It forwards to the simulator's control API (tests/sim/control.ts: enter a pairing code,
 * view a status, list what a contact received…) and adds one demo-only action:
 *
 *   POST /demo/scan-qr/:sessionId [{ phone }]  → the phone "scans" the QR the product shows
 *
 * The product only exposes its QR as a PNG data URL, so this reads the image like a camera would
 * (qr-decode.ts) and hands the QR text to the simulator; `phone` defaults to "your phone".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WaSimulator } from '../sim/server.js'
import { decodeQrDataUrl } from './qr-decode.js'

export interface PhoneServerOptions {
  sim: WaSimulator
  /** 0 = any free port */
  port: number
  product: { url: string; apiKey: string }
  defaultPhone: string
}

export interface PhoneServer {
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

const QR_WAIT_MS = 10_000
const SCAN_QR = /^\/demo\/scan-qr\/([A-Za-z0-9_-]{1,64})$/

export async function startPhoneServer(opts: PhoneServerOptions): Promise<PhoneServer> {
  const controlUrl = opts.sim.controlUrl
  if (!controlUrl) throw new Error('the simulator was started without its control API')
  const server: Server = createServer((req, res) => {
    handle(req, opts, controlUrl).then(
      ({ status, body }) => reply(res, status, body),
      (error: unknown) =>
        reply(res, error instanceof HttpError ? error.status : 400, {
          error: error instanceof Error ? error.message : String(error),
        }),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, '127.0.0.1', resolve)
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function handle(
  req: IncomingMessage,
  opts: PhoneServerOptions,
  controlUrl: string,
): Promise<{ status: number; body: string }> {
  const url = new URL(req.url ?? '/', 'http://phone')
  const body = await readBody(req)
  const scan = SCAN_QR.exec(url.pathname)
  if (scan && req.method === 'POST') {
    const phone = body ? (JSON.parse(body) as { phone?: string }).phone : undefined
    return {
      status: 200,
      body: JSON.stringify(await scanProductQr(opts, scan[1]!, phone ?? opts.defaultPhone)),
    }
  }
  const forwarded = await fetch(`${controlUrl}${url.pathname}${url.search}`, {
    method: req.method,
    headers: { 'content-type': 'application/json' },
    body: body || undefined,
  })
  return { status: forwarded.status, body: await forwarded.text() }
}

async function scanProductQr(opts: PhoneServerOptions, sessionId: string, phone: string) {
  const qr = await waitForProductQr(opts.product, sessionId)
  const linked = await opts.sim.scanQr(decodeQrDataUrl(qr), phone)
  return { scanned: true, phone, jid: linked.jid, lid: linked.lid ?? null }
}

interface QrCodeAnswer {
  error?: string
  data?: { qrCode: string | null; authMethod: string; connected: boolean }
}

/** A new session shows its first QR a moment after it is created: wait a few seconds for it. */
async function waitForProductQr(product: PhoneServerOptions['product'], sessionId: string): Promise<string> {
  const deadline = Date.now() + QR_WAIT_MS
  for (;;) {
    const res = await fetch(`${product.url}/api/sessions/${sessionId}/qr-code`, {
      headers: { 'x-api-key': product.apiKey },
    })
    const answer = (await res.json()) as QrCodeAnswer
    if (!res.ok) throw new HttpError(res.status, answer.error ?? `the product answered ${res.status}`)
    if (answer.data?.connected) throw new HttpError(409, `session ${sessionId} is already linked`)
    if (answer.data?.authMethod !== 'qrcode') {
      throw new HttpError(409, `session ${sessionId} links with a pairing code, not a QR code`)
    }
    if (answer.data.qrCode) return answer.data.qrCode
    if (Date.now() > deadline) throw new HttpError(409, `session ${sessionId} shows no QR code yet`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}
