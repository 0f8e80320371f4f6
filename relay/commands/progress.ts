// A one-line progress display on stderr, shown only when stderr is a terminal.

/** A progress line: `update` as work goes, `done` at the end. */
export type Progress = ReturnType<typeof makeProgress>

export function makeProgress(label: string, total?: number) {
  const tty = process.stderr.isTTY
  const started = Date.now()
  let last = 0
  return {
    /** Shows `n` (of `total`); with `events`, also how many events went through and how many a second. */
    update(n: number, events?: number): void {
      const now = Date.now()
      if (!tty || now - last < 100) return
      last = now
      const pct = total ? ` ${Math.floor((n / total) * 100)}%` : ''
      const rate =
        events === undefined ? '' : `, ${events} events, ${Math.round((events * 1000) / Math.max(now - started, 1))}/s`
      process.stderr.write(`\r${label}: ${n}${total ? `/${total}` : ''}${pct}${rate}   `)
    },
    done(): void {
      if (tty) process.stderr.write('\n')
    },
  }
}
