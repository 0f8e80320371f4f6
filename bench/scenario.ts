// What every scenario receives from the harness and gives back.
import type { Overrides, Target } from './target.js'

export type Ctx = {
  /** Starts the relay under test (a local child, or wraps --url); `dataDir` and `overrides` only apply to a local relay. */
  relay(opts?: { dataDir?: string; overrides?: Overrides }): Promise<Target>
  /** True when the harness starts agora itself (no --url). */
  readonly local: boolean
  /** Config overrides for a local relay (--set key=value); scenarios may add their own. */
  readonly overrides: Overrides
  /** Where signed corpora are cached. */
  readonly cacheDir: string
  readonly seed: number
  /** Upper bound for each waiting phase, in milliseconds. */
  readonly timeoutMs: number
  /** Progress lines (stderr). */
  log(line: string): void
}

export type Outcome = {
  /** The figures, written to the JSON file under "results". */
  readonly results: Record<string, unknown>
  /** The terminal table. */
  readonly table: string
}

export const MB = 1024 * 1024

/** Resolves once `done()` holds (polled every 20 ms); rejects after `timeoutMs`. */
export function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (done()) return resolve()
      if (performance.now() > deadline) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(poll, 20)
    }
    poll()
  })
}
