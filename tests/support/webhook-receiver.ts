import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders
  body: string
  receivedAt: number
}

/** How the receiver answers one request: a status (and headers), or never (`hang`). */
export type ReceiverAnswer = { status: number; headers?: Record<string, string> } | 'hang'

/**
 * A local HTTP server standing in for a customer's webhook endpoint: records every request as
 * received (raw body, headers, time) and answers as scripted, 204 once the script is used up.
 */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = []
  private readonly script: ReceiverAnswer[] = []

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hook'): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | null = null
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        receiver?.received.push({
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        })
        const answer = receiver?.script.shift() ?? { status: 204 }
        if (answer === 'hang') return
        res.writeHead(answer.status, answer.headers ?? {})
        res.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`)
    return receiver
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** The next requests get these answers, in order. */
  answer(...answers: ReceiverAnswer[]): void {
    this.script.push(...answers)
  }

  /** Parsed bodies of what arrived, optionally of one event. */
  bodies<T = { event: string; id: string; sessionId: string; data: Record<string, unknown> }>(
    event?: string,
  ): T[] {
    return this.received
      .map((delivery) => JSON.parse(delivery.body) as T & { event: string })
      .filter((body) => event === undefined || body.event === event)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
