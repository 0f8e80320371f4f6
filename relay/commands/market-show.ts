// agora market show JOB: a job's ledger entry as JSON, as the relay's 31118 carries it: the stored entry when the
// relay has published one, else built from the market tables as the publisher would build it.
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { JOB_LEDGER, makeOutputs } from '../../market/outputs.js'
import { readPubkey } from '../identity.js'
import { openStore } from './listing.js'

// Tags a ledger may carry more than once: listed as arrays of their values, even when there is one.
const REPEATED = new Set(['payment', 'submission', 'step'])

/** A ledger's tags as an object: a tag with one value as that value, with more as their array. */
function readLedger(tags: readonly string[][]): Record<string, unknown> {
  const ledger: Record<string, unknown> = {}
  for (const [name, ...values] of tags) {
    if (name === undefined) continue
    if (REPEATED.has(name)) ((ledger[name] ??= []) as string[][]).push(values)
    else ledger[name] = values.length === 1 ? values[0] : values
  }
  return ledger
}

export type JobShow = {
  job: string
  /** `31118`: the stored entry (`event` names it); `tables`: built from the market tables (none is stored yet). */
  source: '31118' | 'tables'
  event?: { id: string; pubkey: string; created_at: number }
  ledger: Record<string, unknown>
}

/** The job's (or workflow's) ledger; throws when the market does not know the id. */
export function marketShow(cfg: Config, job: string): JobShow {
  const relay = readPubkey(cfg.relay.secret_key, resolve(cfg.relay.data_dir))
  const db = openStore(cfg)
  try {
    const raw = relay
      ? (db
          .prepare('SELECT raw FROM events WHERE pubkey = ? AND kind = ? AND addr = ?')
          .pluck()
          .get(relay, JOB_LEDGER, job) as string | undefined)
      : undefined
    if (raw) {
      const e = JSON.parse(raw) as NostrEvent
      const event = { id: e.id, pubkey: e.pubkey, created_at: e.created_at }
      return { job, source: '31118', event, ledger: readLedger(e.tags) }
    }
    const tags = makeOutputs(db).jobLedger(job)
    if (!tags) throw new Error(`the market holds no job or workflow ${job}`)
    return { job, source: 'tables', ledger: readLedger(tags) }
  } finally {
    db.close()
  }
}
