// agora escrow list: the escrows the market holds (DESIGN §7.5), one JSON line each on stdout, the nearest
// locktime first: what an operator watches, since the relay must rule on each before its locktime.
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { databaseFile } from '../app.js'
import { openReadDb } from '../store/db.js'

export type EscrowLine = {
  job: string
  state: string
  customer: string
  provider: string
  mint: string
  sats: number
  locktime: number
  lock: string
}

/** The store's escrows, nearest locktime first. */
export function escrowList(cfg: Config): EscrowLine[] {
  const db = openReadDb(databaseFile(resolve(cfg.relay.data_dir)))
  try {
    return db
      .prepare(
        `SELECT j.id AS job, j.state, j.customer, x.provider, x.mint, x.sats, x.locktime, x.lock_id AS lock
         FROM market_escrows x JOIN market_jobs j ON j.seq = x.job_seq ORDER BY x.locktime, j.id`,
      )
      .all() as EscrowLine[]
  } finally {
    db.close()
  }
}
