import { describe, expect, it } from 'vitest'
import { ProductMetrics } from './metrics.js'

describe('ProductMetrics', () => {
  it('renders counters, cumulative histograms and scrape-time gauges in the Prometheus text format', async () => {
    const metrics = new ProductMetrics()
    metrics.httpRequests.inc({ method: 'GET', route: '/api/sessions', status: 200 })
    metrics.httpRequests.inc({ method: 'GET', route: '/api/sessions', status: 200 })
    metrics.httpRequests.inc({ method: 'POST', route: '/api/sessions/:sessionId/send-status', status: 409 })
    metrics.statusAckSeconds.observe({}, 0.02)
    metrics.statusAckSeconds.observe({}, 3)
    metrics.receiptsIngested.inc({}, 5)
    metrics.gauge('wst_sessions', 'Sessions by connection state', ['state'], async () => [
      { labels: { state: 'open' }, value: 2 },
      { labels: { state: 'say "hi"\n' }, value: 1 },
    ])
    const text = await metrics.render()
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.split('\n')
    expect(lines).toContain('# TYPE wst_sessions gauge')
    expect(lines).toContain('wst_sessions{state="open"} 2')
    expect(lines).toContain('wst_sessions{state="say \\"hi\\"\\n"} 1')
    expect(lines).toContain('# TYPE wst_http_requests_total counter')
    expect(lines).toContain('wst_http_requests_total{method="GET",route="/api/sessions",status="200"} 2')
    expect(lines).toContain(
      'wst_http_requests_total{method="POST",route="/api/sessions/:sessionId/send-status",status="409"} 1',
    )
    expect(lines).toContain('wst_status_ack_seconds_bucket{le="0.01"} 0')
    expect(lines).toContain('wst_status_ack_seconds_bucket{le="0.025"} 1')
    expect(lines).toContain('wst_status_ack_seconds_bucket{le="5"} 2')
    expect(lines).toContain('wst_status_ack_seconds_bucket{le="+Inf"} 2')
    expect(lines).toContain('wst_status_ack_seconds_count 2')
    expect(lines).toContain('wst_status_ack_seconds_sum 3.02')
    expect(lines).toContain('wst_receipts_ingested_total 5')
    // Every sample line is `name{labels} value`.
    for (const line of lines.filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{.*\})? -?[\d.e+]+$/)
    }
  })
})
