import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** A port nobody listens on right now (the OS picks it); the caller binds it soon after. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

/**
 * A real `redis-server` of the test's own, on a free loopback port, keeping nothing on disk (as the
 * product must survive a Redis that comes back empty). The test owns the process, so it can kill it
 * mid-run and start it again on the same port to play an outage.
 */
export class RedisServer {
  private child: ChildProcess | null = null

  private constructor(readonly port: number) {}

  static async start(options: { port?: number } = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()))
    await server.spawn()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.child !== null
  }

  /** Starts the server again on the same port, empty. */
  async restart(): Promise<void> {
    await this.kill()
    await this.spawn()
  }

  /** SIGKILL: connections drop at once, nothing is flushed (there is nothing to flush). */
  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = null
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  }

  stop(): Promise<void> {
    return this.kill()
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(this.port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--protected-mode',
          'no',
          '--loglevel',
          'notice',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let output = ''
      const onData = (data: Buffer) => {
        output += data.toString()
        if (output.includes('Ready to accept connections')) {
          child.stdout?.off('data', onData)
          child.stdout?.resume()
          this.child = child
          resolve()
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.resume()
      child.once('error', reject)
      child.once('exit', (code) => {
        if (this.child === child) this.child = null
        if (!output.includes('Ready to accept connections')) {
          reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`))
        }
      })
    })
  }
}
