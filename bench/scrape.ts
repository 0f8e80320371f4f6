// --metrics: the local agora serves /metrics and the harness scrapes it every second while the scenario runs, as
// Prometheus would (its default is every 15 s, so this is the heavier case): a run measures the cost of both the
// counting and the scrapes.
import type { Target } from './target.js'

export const SCRAPE_MS = 1000

/**
 * Scrapes the target's /metrics once now (a relay that does not serve it fails the run before it starts), then
 * every SCRAPE_MS, and once more at close; a failed scrape fails the run when it closes.
 */
export async function scraped(target: Target, log: (line: string) => void): Promise<Target> {
  const url = `${target.url.replace(/^ws:/, 'http:')}/metrics`
  let scrapes = 0
  let failure: string | undefined
  let inFlight: Promise<void> | undefined
  const scrape = () =>
    (inFlight ??= fetch(url)
      .then(async res => {
        await res.text()
        if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`)
        scrapes++
      })
      .catch((err: Error) => void (failure ??= err.message))
      .finally(() => (inFlight = undefined)))
  await scrape()
  if (failure) {
    await target.close()
    throw new Error(`--metrics: ${failure}`)
  }
  const timer = setInterval(() => void scrape(), SCRAPE_MS)
  return {
    ...target,
    async close() {
      clearInterval(timer)
      await inFlight
      await scrape()
      await target.close()
      log(`scraped ${url} ${scrapes} times`)
      if (failure) throw new Error(`--metrics: a scrape failed: ${failure}`)
    },
  }
}
