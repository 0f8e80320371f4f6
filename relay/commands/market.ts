// agora market rebuild: replays every stored event into the market tables (DESIGN §3), then computes standing and
// reputation from them with the relay's key and the configured roots. The CLI runs it holding the data dir
// (relay/datadir-lock.ts), so it refuses to run while the relay does.
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { standingRules } from '../../market/fold.js'
import { rebuildMarket } from '../../market/rebuild.js'
import { databaseFile } from '../app.js'
import { loadIdentity } from '../identity.js'
import { openWriteDb } from '../store/db.js'

/** Rebuilds the market tables of the configured store; returns how many events were replayed. */
export async function marketRebuild(cfg: Config): Promise<number> {
  const dataDir = resolve(cfg.relay.data_dir)
  const { pubkey } = await loadIdentity(cfg.relay.secret_key, dataDir)
  const db = openWriteDb(databaseFile(dataDir), cfg.store.synchronous as 'full' | 'normal')
  try {
    return rebuildMarket(db, { jobTtl: cfg.market.job_ttl, standing: standingRules(cfg, pubkey) })
  } finally {
    db.close()
  }
}
