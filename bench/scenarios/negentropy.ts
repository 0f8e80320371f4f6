// negentropy: NIP-77 reconciliation of a client's set with a relay holding N events (the query scenario's corpus and
// store, so one import serves both). For each difference d, the client's set lacks d/2 of the relay's events and
// holds as many ids the relay lacks; each run opens a connection, reconciles `{}` through client/negentropy.ts and
// checks that have and need are exactly the planted difference. Reports the time to the relay's first answer (its
// set read on a reader thread), the whole reconciliation, rounds, and the negentropy bytes each way beside what
// the ids alone would weigh.
import { randomBytes } from 'node:crypto'
import { reconcile } from '../../client/negentropy.js'
import { RelayClient } from '../../client/relay.js'
import { PackedStorage } from '../../nips/nip77.js'
import { eachCorpusEvent, ensureCorpus } from '../corpus.js'
import { rng } from '../random.js'
import type { Ctx, Outcome } from '../scenario.js'
import { median, round, table } from '../stats.js'
import { prepareStore, queryShape } from './query.js'

export type NegentropyOptions = {
  events: number
  runs: number
  /** Differences, in percent of the relay's events. */
  diffs: number[]
  data: string | undefined
  load: boolean
}

type DiffResult = {
  diffPercent: number
  onlyRelay: number
  onlyClient: number
  /** Medians over the runs. */
  firstAnswerMs: number
  totalMs: number
  rounds: number
  sentBytes: number
  receivedBytes: number
  /** Every run found exactly the planted difference. */
  exact: boolean
  runsMs: number[]
}

export async function negentropy(ctx: Ctx, o: NegentropyOptions): Promise<Outcome> {
  const n = o.events
  const file = await ensureCorpus(ctx.cacheDir, queryShape(n, ctx.seed), ctx.log)
  const created = new Uint32Array(n)
  const ids: string[] = new Array<string>(n)
  await eachCorpusEvent(file, (e, i) => {
    created[i] = e.created_at
    ids[i] = e.id
  })
  // A whole-store set must fit the session's limits: every event, and the time its keys take to read.
  const overrides = {
    'limits.max_negentropy_records': String(Math.max(n, 1_000_000)),
    'limits.query_time_budget_ms': '60000',
  }
  const { target, loadSeconds, cleanup } = await prepareStore(ctx, o, file, overrides)
  const r = rng(ctx.seed + 77)
  const results: DiffResult[] = []
  try {
    for (const d of o.diffs) {
      const k = Math.round((n * d) / 100 / 2)
      const dropped = new Set<number>()
      while (dropped.size < k) dropped.add(r.int(n))
      const extra = Array.from({ length: k }, () => [created[r.int(n)]!, randomBytes(32).toString('hex')] as const)
      const pairs = function* () {
        for (let i = 0; i < n; i++) if (!dropped.has(i)) yield [created[i]!, ids[i]!] as const
        yield* extra
      }
      const local = new PackedStorage(pairs())
      const needed = [...dropped].map(i => ids[i]!).sort()
      const had = extra.map(([, id]) => id).sort()
      const runs: { first: number; total: number; rounds: number; sent: number; received: number; exact: boolean }[] =
        []
      for (let run = 0; run < o.runs; run++) {
        const relay = new RelayClient(target.url)
        try {
          await relay.waitOpen(ctx.timeoutMs)
          const t0 = performance.now()
          let first: number | undefined
          const got = await reconcile(relay, {}, local, {
            answerMs: ctx.timeoutMs,
            onRound: () => (first ??= performance.now() - t0),
          })
          const total = performance.now() - t0
          const exact =
            got.need.length === k &&
            got.have.length === k &&
            got.need.sort().every((id, i) => id === needed[i]) &&
            got.have.sort().every((id, i) => id === had[i])
          runs.push({
            first: first ?? total,
            total,
            rounds: got.rounds,
            sent: got.sentBytes,
            received: got.receivedBytes,
            exact,
          })
          ctx.log(
            `${d} %: ${round(total)} ms (first answer ${round(first ?? total)} ms), ${got.rounds} rounds, ` +
              `${got.sentBytes} B sent, ${got.receivedBytes} B received, need ${got.need.length}, have ${got.have.length}` +
              (exact ? '' : ' (NOT the planted difference)'),
          )
        } finally {
          relay.close()
        }
      }
      results.push({
        diffPercent: d,
        onlyRelay: k,
        onlyClient: k,
        firstAnswerMs: round(median(runs.map(x => x.first))),
        totalMs: round(median(runs.map(x => x.total))),
        rounds: median(runs.map(x => x.rounds)),
        sentBytes: median(runs.map(x => x.sent)),
        receivedBytes: median(runs.map(x => x.received)),
        exact: runs.every(x => x.exact),
        runsMs: runs.map(x => round(x.total)),
      })
    }
  } finally {
    await target.close()
    cleanup()
  }
  const idsBytes = n * 32
  return {
    results: { events: n, loadSeconds, idsBytes, diffs: results, strfry: 'no strfry binary is available to the bench' },
    table:
      table(
        [
          'difference',
          'only relay / only client',
          'first answer ms',
          'total ms',
          'rounds',
          'sent KB',
          'received KB',
          'exact',
        ],
        results.map(x => [
          `${x.diffPercent} %`,
          `${x.onlyRelay} / ${x.onlyClient}`,
          x.firstAnswerMs,
          x.totalMs,
          x.rounds,
          round(x.sentBytes / 1024),
          round(x.receivedBytes / 1024),
          x.exact ? 'yes' : 'NO',
        ]),
      ) +
      `\n(medians of ${o.runs} runs over ${n} stored events; their ids alone weigh ${round(idsBytes / 1024)} KB. ` +
      `No strfry binary is available to this bench (neither npm nor Debian has one), so there is no side-by-side.)`,
  }
}
