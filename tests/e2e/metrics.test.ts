import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EVENTUALLY, linkByQr, MODES, startTestbed, type Testbed } from './harness.js'

/** The value of one sample line of a Prometheus text answer (0 when absent). */
const sample = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

/**
 * GET /metrics of every process of the product: sends by outcome, ack latency and receipts where
 * the WhatsApp sockets are, requests and command round trips where the API is.
 */
describe.each(MODES)('metrics (%s)', (mode) => {
  let bed: Testbed

  beforeEach(async () => {
    bed = await startTestbed({ mode })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('count a sent status, its ack, a refused one and a view, and the requests behind them', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550011001' })
    const contact = sim.createAccount({ phone: '15550011002' })
    const product = await bed.startProduct()
    await linkByQr(product, sim, { sessionId: 'counted', phone: owner.phone })
    const send = (content: string) =>
      product.api.post<{ waMessageId: string }>('/api/sessions/counted/send-status', {
        type: 'text',
        content,
        targetNumbers: contact.phone,
      })
    const sent = await send('counted')
    expect(sent.status).toBe(200)
    sim.setStatusAck(owner.phone, { error: 479 })
    expect((await send('refused')).status).toBe(503)
    sim.setStatusAck(owner.phone, 'ok')
    await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
    await sim.view(contact.phone, owner.phone, sent.data.waMessageId)

    const scrape = async (port: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { 'x-api-key': product.apiKey },
      })
      expect(res.status).toBe(200)
      return res.text()
    }
    const apiPort = Number(new URL(product.api.baseUrl).port)
    // Where the sessions run: the embedded process, or every connector (added up).
    const whatsAppSide = async () =>
      mode === 'embedded'
        ? [await scrape(apiPort)]
        : Promise.all(product.connectors.map((connector) => scrape(connector.port)))
    const total = async (series: string) =>
      (await whatsAppSide()).reduce((sum, text) => sum + sample(text, series), 0)
    await vi.waitFor(async () => expect(await total('wst_receipts_ingested_total')).toBe(1), EVENTUALLY)
    expect(await total('wst_status_sends_total{outcome="sent"}')).toBe(1)
    expect(await total('wst_status_sends_total{outcome="rejected"}')).toBe(1)
    expect(await total('wst_status_ack_seconds_count')).toBe(1)

    const api = await scrape(apiPort)
    expect(
      sample(
        api,
        'wst_http_requests_total{method="POST",route="/api/sessions/:sessionId/send-status",status="200"}',
      ),
    ).toBe(1)
    expect(
      sample(
        api,
        'wst_http_requests_total{method="POST",route="/api/sessions/:sessionId/send-status",status="503"}',
      ),
    ).toBe(1)
    expect(sample(api, 'wst_bus_command_seconds_count{command="status.send",outcome="ok"}')).toBe(1)
    expect(sample(api, 'wst_bus_command_seconds_count{command="status.send",outcome="unavailable"}')).toBe(1)
    expect(sample(api, 'wst_sessions{state="open"}')).toBe(1)
    const refused = await fetch(`${product.api.baseUrl}/metrics`)
    expect(refused.status).toBe(401)
  })
})
