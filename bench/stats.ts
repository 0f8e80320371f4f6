// Percentiles, medians and the terminal table.

/** Nearest-rank percentile (0-100) of the first `count` values; NaN when there are none. Sorts in place. */
export function percentile(values: Float64Array, p: number, count = values.length): number {
  if (count === 0) return NaN
  const sorted = values.subarray(0, count).sort()
  return sorted[Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1))]!
}

/** Median of a list of numbers (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Rounds for display and JSON: 3 significant decimals below 10, 1 decimal below 1000, integers above. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x
  const a = Math.abs(x)
  return a >= 1000 ? Math.round(x) : a >= 10 ? Math.round(x * 10) / 10 : Math.round(x * 1000) / 1000
}

/** A plain aligned table: first column left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string {
  const cells = [header, ...rows].map(r => r.map(c => (c === undefined ? '-' : typeof c === 'number' ? fmt(c) : c)))
  const widths = header.map((_, i) => Math.max(...cells.map(r => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(cells[0]!), widths.map(w => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

const fmt = (x: number) => (Number.isFinite(x) ? String(round(x)) : 'n/a')

/** The median of each named figure over runs, and the peak RSS: the summary row of a scenario. */
export function summarizeRuns<R extends { serverPeakRssMb: number }, K extends keyof R>(
  runs: readonly R[],
  keys: readonly K[],
): { [P in K]: number } & { serverPeakRssMb: number } {
  const out = Object.fromEntries(keys.map(k => [k, round(median(runs.map(r => r[k] as number)))]))
  return { ...out, serverPeakRssMb: round(Math.max(...runs.map(r => r.serverPeakRssMb))) } as { [P in K]: number } & {
    serverPeakRssMb: number
  }
}
