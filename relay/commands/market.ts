// agora market rebuild: replays every stored event into the market tables (DESIGN §3). The relay's
// writer waits while it runs, so run it with the relay stopped on a large store.
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { rebuildMarket } from '../../market/fold.js'
import { databaseFile } from '../app.js'
import { openWriteDb } from '../store/db.js'

/** Rebuilds the market tables of the configured store; returns how many events were replayed. */
export function marketRebuild(cfg: Config): number {
  const db = openWriteDb(databaseFile(resolve(cfg.relay.data_dir)), cfg.store.synchronous as 'full' | 'normal')
  try {
    return rebuildMarket(db, cfg.market.job_ttl)
  } finally {
    db.close()
  }
}
