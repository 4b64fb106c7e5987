import pino from 'pino'

/**
 * Baileys needs a pino-compatible logger. The simulator keeps it silent: protocol traces would
 * contain message content and keys. Set SIM_LOG_LEVEL (e.g. `debug`) when debugging the simulator.
 */
export const silentLogger = pino({ level: process.env.SIM_LOG_LEVEL ?? 'silent' })
