import { describe, expect, it } from 'vitest'
import { SessionLane } from './session-lane.js'

/** A task the test finishes by hand, recording when it started. */
const gate = (log: string[], name: string) => {
  let finish = () => {}
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  return {
    finish: () => finish(),
    run: async () => {
      log.push(`start ${name}`)
      await done
      log.push(`end ${name}`)
    },
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('SessionLane', () => {
  it('runs concurrent commands side by side and exclusive ones alone, starting all in order', async () => {
    const log: string[] = []
    let idleCalls = 0
    const lane = new SessionLane(() => idleCalls++)
    const send1 = gate(log, 'send1')
    const send2 = gate(log, 'send2')
    const restart = gate(log, 'restart')
    const send3 = gate(log, 'send3')
    lane.push(false, send1.run)
    lane.push(false, send2.run)
    lane.push(true, restart.run)
    lane.push(false, send3.run)
    await settle()
    expect(log).toEqual(['start send1', 'start send2'])

    send2.finish()
    await settle()
    expect(log).toEqual(['start send1', 'start send2', 'end send2'])
    send1.finish()
    await settle()
    // The restart waited for both sends, and the send queued after it waits for the restart.
    expect(log.slice(3)).toEqual(['end send1', 'start restart'])
    restart.finish()
    await settle()
    expect(log.slice(5)).toEqual(['end restart', 'start send3'])
    expect(lane.busy).toBe(true)
    send3.finish()
    await lane.idle()
    expect(lane.busy).toBe(false)
    expect(idleCalls).toBe(1)
  })

  it('keeps going after a command fails', async () => {
    const lane = new SessionLane()
    const ran: string[] = []
    lane.push(true, async () => {
      throw new Error('boom')
    })
    lane.push(true, async () => {
      ran.push('after')
    })
    await lane.idle()
    expect(ran).toEqual(['after'])
  })
})
