// Reports and flags (NIP-56 kind 1984, DESIGN §7.3): the only writer of market_reports. A report counts when its
// author was the customer of a delivered job of the reported provider; a provider is flagged at the threshold of
// distinct such reporters, or at once on a proven fraud. With its gates, this is who may deliver a job.
import { reject, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import { jobIdOf } from '../../nips/nip90.js'
import { feedbackCounts, shortId, type Job } from '../jobs.js'
import { flaggedRefusal, reportedKey } from '../reports.js'
import { makeReputation, score } from '../reputation.js'
import type { Ctx, Handler, MarketRules } from './context.js'
import type { Jobs } from './jobs.js'
import type { Sealed } from './sealed.js'

const now = () => Math.floor(Date.now() / 1000)

export function makeReports(ctx: Ctx, jobs: Jobs, sealed: Sealed) {
  const { db } = ctx
  const q = {
    reported: db.prepare('SELECT provider, COUNT(DISTINCT reporter) AS n FROM market_reports GROUP BY provider'),
    report: db.prepare('INSERT OR IGNORE INTO market_reports (id, provider, reporter) VALUES (?, ?, ?)'),
    dropReport: db.prepare('DELETE FROM market_reports WHERE id = ? RETURNING provider').pluck(),
  }
  const reputation = makeReputation(db)
  // Distinct counting reporters per reported provider, kept in memory: the flag is checked for every result and
  // feedback, and reports are few. Loaded once from the table.
  const reporters = new Map<string, number>()
  for (const r of q.reported.all() as { provider: string; n: number }[]) reporters.set(r.provider, r.n)

  function recount(provider: string): void {
    const n = reputation.reportedBy(provider)
    if (n > 0) reporters.set(provider, n)
    else reporters.delete(provider)
    ctx.touchProvider(provider)
  }

  const handler: Handler = {
    apply: e => {
      const reported = reportedKey(e)
      if (reported === undefined || !jobs.deliveredFor(e.pubkey, reported)) return
      q.report.run(e.id, reported, e.pubkey)
      recount(reported)
    },
    removed: gone => {
      const provider = q.dropReport.get(gone.id) as string | undefined
      if (provider) recount(provider)
    },
  }

  return {
    handler,

    /**
     * Why this provider may not deliver this job now: flagged, or below the job's gates. Checked only when the
     * result arrives (a rebuild keeps what was admitted: reputation moves with time).
     */
    eligibility(j: Job, provider: string, rules: MarketRules): Rejection | undefined {
      if (sealed.isFraud(provider))
        return reject('blocked', 'provider flagged: proven fraud (its own key does not open a result it sold)')
      const reportedBy = reporters.get(provider) ?? 0
      if (reportedBy >= rules.flagThreshold) return flaggedRefusal(reportedBy)
      const short = shortId(j.id)
      if (j.minZapMsats !== null) {
        const received = reputation.receivedMsats(provider)
        if (received < j.minZapMsats)
          return reject(
            'restricted',
            `job ${short} is open to providers with ${j.minZapMsats / 1000} sats of verified zaps received; this one has ${Math.floor(received / 1000)}`,
          )
      }
      if (j.minReputation !== null) {
        const s = score(reputation.inputs(provider, now()))
        if (s < j.minReputation)
          return reject(
            'restricted',
            `job ${short} needs a reputation score of ${j.minReputation}; this provider has ${s}`,
          )
      }
      return undefined
    },

    /** Only a flagged provider's feedback is refused (to a job open to it): no job is read for anyone else. */
    feedbackRefusal(e: NostrEvent, rules: MarketRules): Rejection | undefined {
      const reportedBy = reporters.get(e.pubkey) ?? 0
      if (reportedBy < rules.flagThreshold) return undefined
      const id = jobIdOf(e)
      const j = id === undefined ? undefined : ctx.job(id)
      return j && feedbackCounts(j, e.pubkey) ? flaggedRefusal(reportedBy) : undefined
    },
  }
}
