// Charts of the totals view, drawn by uPlot (a small canvas chart library, bundled: the page loads nothing else).
import uPlot from 'uplot'
import css from 'uplot/dist/uPlot.min.css'
import type { Series } from './model.js'

const COLOURS = ['#3b6fd8', '#d8863b', '#3ba55c', '#b53bd8', '#d83b5a', '#7a7a7a']

let styled = false
/** uPlot's own stylesheet, added once (the page's policy allows inline styles, not other files). */
function addStyle(): void {
  if (styled) return
  styled = true
  const style = document.createElement('style')
  style.textContent = css
  document.head.append(style)
}

/**
 * A chart of `s` in a figure with its title: bars for one series, lines for several (bars side by side at one
 * time would hide each other). destroy() before dropping it: uPlot listens on the window.
 */
export function chart(title: string, s: Series, width: number): { node: HTMLElement; destroy: () => void } {
  addStyle()
  const node = document.createElement('figure')
  node.className = 'chart'
  const caption = document.createElement('figcaption')
  caption.textContent = title
  node.append(caption)
  const step = (s.starts[1] ?? 0) - (s.starts[0] ?? 0) || 3600
  const bars = s.series.length === 1 ? uPlot.paths.bars?.({ size: [0.8, 40] }) : undefined
  const plot = new uPlot(
    {
      width,
      height: 220,
      // Half a bucket of room each side, so the first and last bars show whole.
      scales: { x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] } },
      axes: [{}, { size: 50 }],
      series: [
        {},
        ...s.series.map((x, i) => ({
          label: x.label,
          stroke: COLOURS[i % COLOURS.length]!,
          ...(bars
            ? { paths: bars, fill: `${COLOURS[i % COLOURS.length]!}99`, points: { show: false } }
            : { width: 2 }),
        })),
      ],
    },
    [s.starts as number[], ...s.series.map(x => x.values as number[])],
    node,
  )
  // The canvas says nothing to a screen reader: the figure carries the title, and the tables beside it the figures.
  node.setAttribute('role', 'img')
  node.setAttribute('aria-label', title)
  return { node, destroy: () => plot.destroy() }
}
