/**
 * The media upload host. Baileys always uploads with HTTPS POST to
 * `https://{media_conn host}/mms/{type}/{encSha256 base64url}?auth=…&token=…` and expects JSON
 * `{ url, direct_path }`. The server certificate (for 127.0.0.1 and localhost) is signed by a CA
 * generated at start with the `openssl` CLI; its PEM is written to `caCertPath` so clients can
 * trust it (`NODE_EXTRA_CA_CERTS` for another process, or an `https.Agent({ ca })` passed as
 * Baileys' `fetchAgent`). TLS verification stays on.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface StoredUpload {
  mediaType: string
  encSha256: string
  directPath: string
  body: Buffer
}

export interface TlsMaterial {
  dir: string
  caCertPath: string
  key: Buffer
  cert: Buffer
}

const CA_CERT = 'ca.pem'
const SERVER_KEY = 'server.key'
const SERVER_CERT = 'server.pem'

/** Creates a throwaway CA and a 127.0.0.1/localhost server certificate signed by it. */
export async function makeTlsMaterial(): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'wa-sim-tls-'))
  const file = (name: string) => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file(CA_CERT),
    '-days',
    '7',
    '-subj',
    '/CN=WA Simulator Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  await run('openssl', [
    'req',
    ...ec,
    '-keyout',
    file(SERVER_KEY),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ])
  await writeFile(
    file('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n',
  )
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file(CA_CERT),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file(SERVER_CERT),
    '-days',
    '7',
    '-extfile',
    file('server.ext'),
  ])
  return readTlsMaterial(dir)
}

/** Loads material `makeTlsMaterial` wrote earlier, e.g. in another process of the same test run. */
export async function readTlsMaterial(dir: string): Promise<TlsMaterial> {
  return {
    dir,
    caCertPath: join(dir, CA_CERT),
    key: await readFile(join(dir, SERVER_KEY)),
    cert: await readFile(join(dir, SERVER_CERT)),
  }
}

export class MediaServer {
  readonly uploads = new Map<string, StoredUpload>()
  readonly auth = randomBytes(24).toString('base64url')
  private server?: Server
  private port: number

  /** `ownsTls`: whether `dispose` deletes the TLS files (not when they were lent by the caller). */
  constructor(
    private readonly tls: TlsMaterial,
    port = 0,
    private readonly ownsTls = true,
  ) {
    this.port = port
  }

  get host(): string {
    return `127.0.0.1:${this.port}`
  }

  get caCertPath(): string {
    return this.tls.caCertPath
  }

  async listen(): Promise<void> {
    const server = createServer({ key: this.tls.key, cert: this.tls.cert }, (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const reply = this.handle(req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks))
        res.writeHead(reply.status, { 'content-type': reply.type })
        res.end(reply.body)
      })
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  async dispose(): Promise<void> {
    await this.close()
    if (this.ownsTls) await rm(this.tls.dir, { recursive: true, force: true })
  }

  /** The stored encrypted bytes for a `directPath` (or full URL) a client put in a message. */
  find(pathOrUrl: string): StoredUpload | undefined {
    const path = pathOrUrl.startsWith('https://') ? new URL(pathOrUrl).pathname : pathOrUrl.split('?')[0]!
    return this.uploads.get(path)
  }

  private handle(
    method: string,
    rawUrl: string,
    body: Buffer,
  ): { status: number; type: string; body: Buffer | string } {
    const url = new URL(rawUrl, `https://${this.host}`)
    const upload = /^\/mms\/([\w-]+)\/([\w-]+)$/.exec(url.pathname)
    if (method === 'POST' && upload) {
      const [, mediaType, encSha256] = upload
      if (url.searchParams.get('auth') !== this.auth) return json(401, { error: 'bad auth' })
      // the path names the SHA-256 of the encrypted body: reject corrupted uploads like the real host
      if (createHash('sha256').update(body).digest('base64url') !== encSha256)
        return json(400, { error: 'hash mismatch' })
      const directPath = `/v/t62.7118-24/${randomInt(10 ** 8, 10 ** 9)}_${encSha256!.slice(0, 12)}_n.enc`
      this.uploads.set(directPath, { mediaType: mediaType!, encSha256: encSha256!, directPath, body })
      return json(200, {
        url: `https://${this.host}${directPath}?ccb=11-4`,
        direct_path: `${directPath}?ccb=11-4`,
      })
    }
    const stored = method === 'GET' ? this.uploads.get(url.pathname) : undefined
    if (stored) return { status: 200, type: 'application/octet-stream', body: stored.body }
    return json(404, { error: 'not found' })
  }
}

const json = (status: number, value: unknown) => ({
  status,
  type: 'application/json',
  body: JSON.stringify(value),
})
