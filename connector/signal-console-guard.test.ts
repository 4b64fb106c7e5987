import { afterEach, describe, expect, it, vi } from 'vitest'
import { installSignalConsoleGuard } from './signal-console-guard.js'

describe('installSignalConsoleGuard', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('drops libsignal session dumps while installed and restores the console after', () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    const remove = installSignalConsoleGuard()
    const nested = installSignalConsoleGuard()
    console.info('Closing session:', { privKey: 'secret' })
    console.info('Opening session:', { privKey: 'secret' })
    console.info('an ordinary line')
    nested()
    console.info('Closing session:', { privKey: 'still guarded' })
    expect(info.mock.calls).toEqual([['an ordinary line']])
    remove()
    console.info('Closing session:', 'after removal')
    expect(info.mock.calls.at(-1)).toEqual(['Closing session:', 'after removal'])
  })
})
