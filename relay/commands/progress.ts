// A one-line progress display on stderr, shown only when stderr is a terminal.
export function makeProgress(label: string, total?: number) {
  const tty = process.stderr.isTTY
  let last = 0
  return {
    update(n: number): void {
      const now = Date.now()
      if (!tty || now - last < 100) return
      last = now
      const pct = total ? ` ${Math.floor((n / total) * 100)}%` : ''
      process.stderr.write(`\r${label}: ${n}${total ? `/${total}` : ''}${pct}   `)
    },
    done(): void {
      if (tty) process.stderr.write('\n')
    },
  }
}
