// agora market providers: every key that announced itself (31990), sent heartbeats (30333) or delivered a job,
// with the figures of its NIP-85 assertion (30382) as the relay would publish it now, best ranked first.
import type { Config } from '../../config/schema.js'
import { makeOutputs } from '../../market/outputs.js'
import { HEARTBEAT } from '../../market/providers.js'
import { openStore, printable, tableRow } from './listing.js'

type ProviderLine = {
  pubkey: string
  name: string | null
  kinds: number[]
  /** Its last heartbeat's `price` (`kind:sats,...`), as sent. */
  price: string | null
  online: boolean
  rank: number
  score: number
  standing: number
  jobs_delivered: number
  /** Paid jobs counted by their customers' weight, as the assertion shows them, and their number. */
  jobs_paid: number
  jobs_paid_raw: number
  flagged: boolean
}

const HEAD = ['pubkey', 'name', 'kinds', 'price', 'online', 'rank', 'standing', 'delivered', 'paid', 'flagged']
const RIGHT = new Set([5, 6, 7, 8])

/** The providers, by rank, then jobs delivered. */
export function listProviders(cfg: Config): ProviderLine[] {
  const db = openStore(cfg)
  try {
    const outputs = makeOutputs(db)
    const keys = db
      .prepare(
        `SELECT pubkey FROM market_handlers
         UNION SELECT e.pubkey FROM events e JOIN market_heartbeats b ON b.seq = e.seq
         UNION SELECT provider FROM market_deliveries`,
      )
      .pluck()
      .all() as string[]
    const name = db
      .prepare('SELECT name FROM market_handlers WHERE pubkey = ? AND name IS NOT NULL ORDER BY d LIMIT 1')
      .pluck()
    const price = db
      .prepare(
        `SELECT b.price FROM events e JOIN market_heartbeats b ON b.seq = e.seq
         WHERE e.pubkey = ? AND e.kind = ${HEARTBEAT} ORDER BY b.received_at DESC LIMIT 1`,
      )
      .pluck()
    const now = Math.floor(Date.now() / 1000)
    const lines = keys.map(pubkey => {
      const tags = outputs.providerAssertion(pubkey, now, cfg.market.offline_after, cfg.market.flag_threshold)
      const tag = (n: string) => tags.find(t => t[0] === n)?.[1] ?? ''
      const paidRaw = tags.find(t => t[0] === 'input' && t[1] === 'jobs_paid')?.[3]
      return {
        pubkey,
        name: (name.get(pubkey) as string | undefined) ?? null,
        kinds: tags.filter(t => t[0] === 'k').map(t => Number(t[1])),
        price: (price.get(pubkey) as string | null | undefined) ?? null,
        online: tag('online') === '1',
        rank: Number(tag('rank')),
        score: Number(tag('score')),
        standing: Number(tag('standing')),
        jobs_delivered: Number(tag('jobs_delivered')),
        jobs_paid: Number(tag('jobs_paid')),
        jobs_paid_raw: Number(paidRaw),
        flagged: tag('flagged') === '1',
      }
    })
    return lines.sort(
      (a, b) => b.rank - a.rank || b.jobs_delivered - a.jobs_delivered || (a.pubkey < b.pubkey ? -1 : 1),
    )
  } finally {
    db.close()
  }
}

/** Prints the providers as a table or JSON lines; returns how many. */
export function marketProviders(cfg: Config, json: boolean): number {
  const lines = listProviders(cfg)
  if (json) {
    for (const p of lines) console.log(JSON.stringify(p))
    return lines.length
  }
  const rows = lines.map(p => [
    p.pubkey,
    printable(p.name ?? '-', 20),
    p.kinds.join(',') || '-',
    printable(p.price ?? '-', 24),
    p.online ? 'yes' : 'no',
    String(p.rank),
    String(p.standing),
    String(p.jobs_delivered),
    String(p.jobs_paid_raw),
    p.flagged ? 'FLAGGED' : '-',
  ])
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
  if (rows.length > 0) console.log(tableRow(HEAD, widths, RIGHT))
  for (const r of rows) console.log(tableRow(r, widths, RIGHT))
  return rows.length
}
