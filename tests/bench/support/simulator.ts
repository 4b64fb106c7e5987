import type { ChildProcess } from 'node:child_process'
import { firstLine, spawnTs, stopChild } from './processes.js'

interface SimulatorInfo {
  wsUrl: string
  uploadHost: string
  caCertPath: string
  controlUrl: string
}

/**
 * The protocol simulator in a child process, driven through its HTTP control API: its accounts,
 * devices and Signal state then never count in the heap of the process being measured.
 */
export class SimulatorProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly info: SimulatorInfo,
  ) {}

  static async start(): Promise<SimulatorProcess> {
    const child = spawnTs(new URL('../../sim/main.ts', import.meta.url))
    try {
      const info = JSON.parse(await firstLine(child, 30_000)) as SimulatorInfo
      return new SimulatorProcess(child, info)
    } catch (error) {
      await stopChild(child)
      throw error
    }
  }

  createAccount(phone: string): Promise<unknown> {
    return this.call('POST', '/accounts', { phone })
  }

  enterPairingCode(phone: string, code: string): Promise<unknown> {
    return this.call('POST', `/accounts/${phone}/pairing-code`, { code })
  }

  stop(): Promise<void> {
    return stopChild(this.child)
  }

  private async call(method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.info.controlUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const answer: unknown = await response.json()
    if (!response.ok) throw new Error(`simulator ${method} ${path}: ${JSON.stringify(answer)}`)
    return answer
  }
}
