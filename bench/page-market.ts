// The market the page scenario shows: P providers (a 31990 handler with a skill descriptor and a 30333 heartbeat
// each) and N job requests from a few hundred customers, a share of them answered by a provider (a 6xxx result)
// so the relay's market writes their 31118 ledger entries. Signed fresh each run with throwaway keys (bulk-sign.ts):
// the heartbeats and requests must be recent, and the whole market signs in a few seconds.
import { handlerInfo, heartbeat, jobRequest, jobResult, readJobRequest } from '../client/market.js'
import type { NostrEvent } from '../nips/nip01.js'
import { bulkSigner } from './bulk-sign.js'
import { JOB_KINDS, MODELS, signPlanned, words, type Planned } from './corpus.js'
import { rng, zipf } from './random.js'

/** Authors of the job requests (at most one per job), drawn with a Zipf law. */
const CUSTOMERS = 300
/** The share of the jobs a provider answers: each answer makes a ledger entry. */
export const ANSWERED = 0.4
/** The share of the requests addressed to one provider (`p`); the rest are open to any. */
const TARGETED = 0.3
/** The requests are spread over the last six hours. */
const SPAN = 6 * 3600
const FEATURES = ['translation', 'summary', 'captions', 'images', 'code', 'search', 'speech', 'ocr']

export type Market = {
  /** Each provider's handler and heartbeat. */
  readonly announcements: NostrEvent[]
  readonly requests: NostrEvent[]
  /** One result per answered request, by the provider the request was meant for. */
  readonly results: NostrEvent[]
  readonly customers: number
}

/** Whether job j is answered: ANSWERED of the jobs, spread evenly over the six hours. */
const answered = (j: number) => Math.floor((j + 1) * ANSWERED) > Math.floor(j * ANSWERED)

/** Signs a market of `providers` providers and `jobs` job requests; the seed fixes its shape. */
export function signMarket(jobs: number, providers: number, seed: number): Market {
  const r = rng(seed)
  const now = Math.floor(Date.now() / 1000)
  const sellers = Array.from({ length: providers }, () => bulkSigner())
  const buyers = Array.from({ length: Math.min(CUSTOMERS, jobs) }, () => bulkSigner())
  // Each provider serves one to three kinds, and is the one that answers the jobs meant for it.
  const serves = sellers.map(() => [...new Set(Array.from({ length: 1 + r.int(3) }, () => r.pick(JOB_KINDS)))])
  const announce: Planned[] = sellers.flatMap((author, i) => {
    const kinds = serves[i]!
    const content = JSON.stringify({
      name: `Bench provider ${i}`,
      about: words(r, 8 + r.int(16)),
      skill: { features: [r.pick(FEATURES), r.pick(FEATURES)], models: [r.pick(MODELS)], input: { type: 'text' } },
    })
    const prices = new Map(kinds.map(k => [k, 10 + r.int(90)]))
    return [
      { author, tpl: { ...handlerInfo(`bench-${i}`, kinds, content), created_at: now - r.int(3600) } },
      { author, tpl: { ...heartbeat('bench', 1 + r.int(8), prices), created_at: now - r.int(60) } },
    ]
  })
  const customerRank = zipf(buyers.length, 1.1)
  const taker: number[] = []
  const asks: Planned[] = Array.from({ length: jobs }, (_, j) => {
    const p = r.int(providers)
    taker.push(p)
    const tpl = jobRequest({
      kind: r.pick(serves[p]!),
      input: words(r, 4 + r.int(20)),
      bid: 1000 * (1 + r.int(50)),
      params: { model: r.pick(MODELS) },
      providers: r.next() < TARGETED ? [sellers[p]!.pubkey] : [],
    })
    return { author: buyers[customerRank(r)]!, tpl: { ...tpl, created_at: now - SPAN + Math.floor((j * SPAN) / jobs) } }
  })
  const seen = new Set<string>()
  const requests = signPlanned(asks, seen) as NostrEvent[]
  const answers: Planned[] = requests.flatMap((e, j) => {
    if (!answered(j)) return []
    const job = readJobRequest(e)
    const created_at = Math.min(now, e.created_at + 30 + r.int(600))
    const tpl = { ...jobResult(job, words(r, 10 + r.int(40)), job.bid), created_at }
    return [{ author: sellers[taker[j]!]!, tpl }]
  })
  return {
    announcements: signPlanned(announce, seen) as NostrEvent[],
    requests,
    results: signPlanned(answers, seen) as NostrEvent[],
    customers: buyers.length,
  }
}
