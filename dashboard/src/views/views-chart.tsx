import type { Viewer } from '../../../shared/schemas.js'
import { formatClock } from '../format.js'

const WIDTH = 600
const HEIGHT = 140
const PAD = 24

/**
 * Cumulative views over time as a step line, from the send (or the first view) to the last view.
 * Plain SVG: a chart library would weigh more than the whole page.
 */
export const ViewsChart = ({ viewers, since }: { viewers: Viewer[]; since: string | null }) => {
  const times = viewers.map((v) => Date.parse(v.viewedAt)).sort((a, b) => a - b)
  const start = Math.min(since ? Date.parse(since) : times[0]!, times[0]!)
  const end = Math.max(times.at(-1)!, start + 60_000)
  const x = (t: number) => PAD + ((t - start) / (end - start)) * (WIDTH - 2 * PAD)
  const y = (n: number) => HEIGHT - PAD - (n / times.length) * (HEIGHT - 2 * PAD)
  let path = `M${x(start)},${y(0)}`
  times.forEach((t, i) => {
    path += ` H${x(t).toFixed(1)} V${y(i + 1).toFixed(1)}`
  })
  const summary = `${times.length} views between ${formatClock(new Date(times[0]!).toISOString())} and ${formatClock(new Date(times.at(-1)!).toISOString())}`
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Views over time: ${summary}`}>
        <line class="axis" x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} />
        <line class="axis" x1={PAD} y1={PAD} x2={PAD} y2={HEIGHT - PAD} />
        <path class="line" d={path} />
        <text x={PAD} y={HEIGHT - 6}>
          {formatClock(new Date(start).toISOString())}
        </text>
        <text x={WIDTH - PAD} y={HEIGHT - 6} text-anchor="end">
          {formatClock(new Date(end).toISOString())}
        </text>
        <text x={PAD + 4} y={PAD - 8}>
          {times.length}
        </text>
      </svg>
      <figcaption class="muted small">Views over time (cumulative)</figcaption>
    </figure>
  )
}
