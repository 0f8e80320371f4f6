// agora backup FILE: a consistent copy of the store with SQLite's online backup, taken beside the running relay.
// The copy is written to FILE.partial and renamed to FILE once complete, so FILE is never a half copy.
import { existsSync, renameSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { databaseFile } from '../app.js'
import { openStore } from './listing.js'
import { makeProgress } from './progress.js'

// Pages copied per step (4 MB at SQLite's default page size): the progress display moves between steps.
const STEP_PAGES = 1024

export type BackupResult = { file: string; pages: number; bytes: number; ms: number }

/** Copies the configured store to `file`; refuses to replace an existing file unless `force`. */
export async function backup(cfg: Config, file: string, force: boolean): Promise<BackupResult> {
  const target = resolve(file)
  if (target === databaseFile(resolve(cfg.relay.data_dir))) throw new Error(`${target} is the store itself`)
  if (existsSync(target) && !force) throw new Error(`${target} exists; pass --force to replace it`)
  const partial = `${target}.partial`
  const started = Date.now()
  const db = openStore(cfg)
  let progress: ReturnType<typeof makeProgress> | undefined
  try {
    // One read transaction across every step, so each copies pages of the same snapshot while the relay's
    // writer goes on appending to the WAL: without it, SQLite starts the copy over after every commit of the
    // relay's, and under steady ingest it never finishes. The WAL cannot be checkpointed past this snapshot
    // until the copy ends, so it grows by what the relay writes meanwhile.
    db.exec('BEGIN')
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get()
    const r = await db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        progress ??= makeProgress('backed up pages', totalPages)
        progress.update(totalPages - remainingPages)
        return STEP_PAGES
      },
    })
    db.exec('COMMIT')
    renameSync(partial, target)
    return { file: target, pages: r.totalPages, bytes: statSync(target).size, ms: Date.now() - started }
  } finally {
    progress?.done()
    db.close()
  }
}
