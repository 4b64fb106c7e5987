import type { CommandClient } from '../shared/bus/types.js'
import type { Repositories } from '../shared/db/types.js'
import { AppError } from '../shared/errors.js'
import { METRICS_CONTENT_TYPE, type ProductMetrics } from '../shared/metrics.js'
import { apiKeyFromHeaders, apiKeyMatches } from '../shared/security/api-key.js'
import type { App } from './types.js'

/** Commands to the connectors, each round trip timed by name and outcome (ok or the error code). */
export const timedCommands = (commands: CommandClient, metrics: ProductMetrics): CommandClient => ({
  async send(sessionId, name, input, meta) {
    const started = performance.now()
    let outcome = 'ok'
    try {
      return await commands.send(sessionId, name, input, meta)
    } catch (error) {
      outcome = error instanceof AppError ? error.code : 'error'
      throw error
    } finally {
      metrics.commandSeconds.observe({ command: name, outcome }, (performance.now() - started) / 1000)
    }
  },
})

/** Sessions by state, read from the database at each scrape. */
export const collectSessionStates = (metrics: ProductMetrics, repos: Repositories): void =>
  metrics.gauge('wst_sessions', 'Sessions by connection state', ['state'], async () => {
    const counts = new Map<string, number>()
    for (const session of await repos.sessions.list())
      counts.set(session.state, (counts.get(session.state) ?? 0) + 1)
    return [...counts].map(([state, value]) => ({ labels: { state }, value }))
  })

/**
 * GET /metrics in the Prometheus text format: for the API key, or for METRICS_TOKEN as a bearer
 * token (a scraper need not hold the key that can send statuses).
 */
export const registerMetrics = (app: App, metrics: ProductMetrics, token: string | undefined): void => {
  app.get('/metrics', async (c) => {
    const bearer = apiKeyFromHeaders((name) => c.req.header(name))
    if (!c.get('authenticated') && !(token && (await apiKeyMatches(bearer, token)))) {
      throw new AppError('unauthorized', 'Invalid or missing API key')
    }
    return c.body(await metrics.render(), 200, { 'Content-Type': METRICS_CONTENT_TYPE })
  })
}
