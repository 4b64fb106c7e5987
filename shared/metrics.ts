/**
 * Prometheus metrics of one process, in the text exposition format (0.0.4), without a Node-only
 * client library: the API runs on Workers too. Instruments are created once; a sample is one map
 * update, cheap enough for every request.
 */

type Labels = Record<string, string | number>

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

const labelText = (names: readonly string[], values: readonly string[]) =>
  names.length ? `{${names.map((name, i) => `${name}="${escapeLabel(values[i] ?? '')}"`).join(',')}}` : ''

interface Instrument {
  render(): string[]
}

class Counter implements Instrument {
  private readonly values = new Map<string, { labels: string[]; value: number }>()

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const values = this.labelNames.map((name) => String(labels[name] ?? ''))
    const key = values.join('\u0000')
    const found = this.values.get(key)
    if (found) found.value += by
    else this.values.set(key, { labels: values, value: by })
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const { labels, value } of this.values.values()) {
      lines.push(`${this.name}${labelText(this.labelNames, labels)} ${value}`)
    }
    return lines
  }
}

class Histogram implements Instrument {
  private readonly series = new Map<
    string,
    { labels: string[]; counts: number[]; sum: number; count: number }
  >()

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
    private readonly labelNames: readonly string[],
  ) {}

  observe(labels: Labels, value: number): void {
    const values = this.labelNames.map((name) => String(labels[name] ?? ''))
    const key = values.join('\u0000')
    let found = this.series.get(key)
    if (!found) {
      found = { labels: values, counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(key, found)
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] as number)) found.counts[i]!++
    found.sum += value
    found.count++
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    const names = [...this.labelNames, 'le']
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, i) => {
        lines.push(`${this.name}_bucket${labelText(names, [...labels, String(bound)])} ${counts[i]}`)
      })
      lines.push(`${this.name}_bucket${labelText(names, [...labels, '+Inf'])} ${count}`)
      lines.push(`${this.name}_sum${labelText(this.labelNames, labels)} ${sum}`)
      lines.push(`${this.name}_count${labelText(this.labelNames, labels)} ${count}`)
    }
    return lines
  }
}

/** A gauge read when scraped (sessions by state come from the database, not from samples). */
type GaugeCollector = () => Promise<{ labels: Labels; value: number }[]>

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** The product's instruments; a process uses those its parts touch (the API, a connector, both). */
export class ProductMetrics {
  readonly httpRequests = new Counter(
    'wst_http_requests_total',
    'HTTP requests answered, by route and status',
    ['method', 'route', 'status'],
  )
  readonly commandSeconds = new Histogram(
    'wst_bus_command_seconds',
    'Round trip of a command from the API to the connector owning its session',
    SECONDS,
    ['command', 'outcome'],
  )
  readonly statusSends = new Counter('wst_status_sends_total', 'Status sends by outcome', ['outcome'])
  readonly statusAckSeconds = new Histogram(
    'wst_status_ack_seconds',
    'From a status stanza written to WhatsApp acknowledging it',
    SECONDS,
    [],
  )
  readonly receiptsIngested = new Counter(
    'wst_receipts_ingested_total',
    'Status view receipts recorded as new views',
    [],
  )
  readonly webhookDeliveries = new Counter(
    'wst_webhook_deliveries_total',
    'Webhook delivery attempts by outcome (delivered, retried, failed)',
    ['outcome'],
  )
  private readonly gauges: { name: string; help: string; labelNames: string[]; collect: GaugeCollector }[] =
    []

  /** A gauge computed at each scrape. */
  gauge(name: string, help: string, labelNames: string[], collect: GaugeCollector): void {
    this.gauges.push({ name, help, labelNames, collect })
  }

  async render(): Promise<string> {
    const lines: string[] = []
    for (const gauge of this.gauges) {
      lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`)
      for (const { labels, value } of await gauge.collect()) {
        const values = gauge.labelNames.map((label) => String(labels[label] ?? ''))
        lines.push(`${gauge.name}${labelText(gauge.labelNames, values)} ${value}`)
      }
    }
    for (const instrument of [
      this.httpRequests,
      this.commandSeconds,
      this.statusSends,
      this.statusAckSeconds,
      this.receiptsIngested,
    ]) {
      lines.push(...instrument.render())
    }
    return `${lines.join('\n')}\n`
  }
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
