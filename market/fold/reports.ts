// Reports and flags (NIP-56 kind 1984, DESIGN §7.3): the only writer of market_reports. A report counts when its
// author was the customer of a delivered job of the reported provider; a provider is flagged once the standing of
// such reporters adds up to the threshold (market/fold/standing.ts sums it), or at once on a proven fraud. With its
// gates, this is who may deliver a job.
import { reject, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import { jobIdOf } from '../../nips/nip90.js'
import { feedbackCounts, shortId, type Job } from '../jobs.js'
import { flaggedRefusal, reportedKey } from '../reports.js'
import type { Ctx, Handler, MarketRules } from './context.js'
import type { Jobs } from './jobs.js'
import type { Sealed } from './sealed.js'

export function makeReports(ctx: Ctx, jobs: Jobs, sealed: Sealed) {
  const { db } = ctx
  const q = {
    report: db.prepare('INSERT OR IGNORE INTO market_reports (id, provider, reporter) VALUES (?, ?, ?)'),
    dropReport: db.prepare('DELETE FROM market_reports WHERE id = ? RETURNING provider').pluck(),
    reported: db.prepare('SELECT pubkey, reports FROM market_reputation WHERE reports > 0').raw(),
    // What the gates read: the last computation's score and counted sats.
    gates: db.prepare('SELECT score, received_msats FROM market_reputation WHERE pubkey = ?'),
  }
  // The summed standing of each reported provider's counting reporters, as last computed, kept in memory: the flag is
  // checked for every result and feedback, and reported providers are few.
  let reported = new Map(q.reported.all() as [string, number][])

  const handler: Handler = {
    apply: e => {
      const provider = reportedKey(e)
      if (provider === undefined || !jobs.deliveredFor(e.pubkey, provider)) return
      q.report.run(e.id, provider, e.pubkey)
      ctx.inputsChanged()
    },
    removed: gone => {
      if (q.dropReport.get(gone.id) !== undefined) ctx.inputsChanged()
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
      const reports = reported.get(provider) ?? 0
      if (reports >= rules.flagThreshold) return flaggedRefusal(reports, rules.flagThreshold)
      if (j.minZapMsats === null && j.minReputation === null) return undefined
      const short = shortId(j.id)
      const now = (q.gates.get(provider) as { score: number; received_msats: number } | undefined) ?? {
        score: 0,
        received_msats: 0,
      }
      if (j.minZapMsats !== null && now.received_msats < j.minZapMsats)
        return reject(
          'restricted',
          `job ${short} is open to providers with ${j.minZapMsats / 1000} sats of verified payments from keys with standing; this one has ${Math.floor(now.received_msats / 1000)}`,
        )
      if (j.minReputation !== null && now.score < j.minReputation)
        return reject(
          'restricted',
          `job ${short} needs a reputation score of ${j.minReputation}; this provider has ${now.score}`,
        )
      return undefined
    },

    /** Only a flagged provider's feedback is refused (to a job open to it): no job is read for anyone else. */
    feedbackRefusal(e: NostrEvent, rules: MarketRules): Rejection | undefined {
      const reports = reported.get(e.pubkey) ?? 0
      if (reports < rules.flagThreshold) return undefined
      const id = jobIdOf(e)
      const j = id === undefined ? undefined : ctx.job(id)
      return j && feedbackCounts(j, e.pubkey) ? flaggedRefusal(reports, rules.flagThreshold) : undefined
    },

    /**
     * The reporters' standing per provider from the last computation of standing; with the threshold, a provider
     * it flags now is a milestone.
     */
    computed(r: ReadonlyMap<string, number>, flagThreshold?: number): void {
      if (flagThreshold !== undefined)
        for (const [provider, sum] of r)
          if (sum >= flagThreshold && (reported.get(provider) ?? 0) < flagThreshold)
            ctx.milestone({ what: 'flagged', provider, why: 'reports' })
      reported = new Map(r)
    },
  }
}
