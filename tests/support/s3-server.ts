import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// @ts-expect-error the package ships no types
import S3rver from '@20minutes/s3rver'

/**
 * A real S3 API on loopback for tests (`@20minutes/s3rver`, which checks SigV4 signatures, so
 * a wrongly signed request or presigned link fails here as it would on S3). Objects live in a
 * temp folder removed on close.
 */
export class S3TestServer {
  static readonly accessKeyId = 'S3RVER'
  static readonly secretAccessKey = 'S3RVER'
  static readonly region = 'us-east-1'

  private constructor(
    private readonly server: { close(): Promise<void> },
    readonly endpoint: string,
    readonly bucket: string,
    private readonly directory: string,
  ) {}

  static async start(options: { bucket?: string } = {}): Promise<S3TestServer> {
    const directory = await mkdtemp(join(tmpdir(), 's3rver-'))
    const bucket = options.bucket ?? 'media'
    const server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    })
    const address = (await server.run()) as AddressInfo
    return new S3TestServer(server, `http://127.0.0.1:${address.port}`, bucket, directory)
  }

  /** The S3_* settings a product process needs to use this server. */
  get env(): Record<string, string> {
    return {
      S3_ENDPOINT: this.endpoint,
      S3_REGION: S3TestServer.region,
      S3_BUCKET: this.bucket,
      S3_ACCESS_KEY_ID: S3TestServer.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3TestServer.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    }
  }

  /**
   * Every object key in the bucket, for tests proving nothing was left behind. An unsigned GET,
   * because s3rver refuses the SDK's signed listing (its query signing differs) but lets anonymous
   * reads through; a bucket of a test holds far fewer than the 1,000 keys of one listing page.
   */
  async keys(): Promise<string[]> {
    const response = await fetch(`${this.endpoint}/${this.bucket}`)
    if (!response.ok) throw new Error(`listing ${this.bucket} failed: ${response.status}`)
    const xml = await response.text()
    return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1] ?? '')
  }

  async close(): Promise<void> {
    await this.server.close().catch(() => {})
    await rm(this.directory, { recursive: true, force: true })
  }
}
