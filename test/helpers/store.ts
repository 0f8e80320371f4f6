// A real SQLite store in a temp dir, written through the relay's writer and read through its reader (no server).
import { join } from 'node:path'
import type { MarketRules } from '../../market/fold.js'
import { canonicalJson, type NostrEvent, type VerifiedEvent } from '../../nips/nip01.js'
import { openReadDb, openWriteDb, type Db } from '../../relay/store/db.js'
import { createReader, type Reader } from '../../relay/store/reader.js'
import type { WriteOutcome } from '../../relay/store/writes.js'
import { createWriter, type Writer } from '../../relay/writer.js'

export type TestStore = {
  /** The writer's connection, for looking at tables directly. */
  readonly db: Db
  readonly writer: Writer
  readonly reader: Reader
  /** Hands an event to the writer as if it had been verified; resolves after its commit. */
  save(e: NostrEvent): Promise<WriteOutcome>
  /** Commits what is queued and closes both connections. */
  close(): Promise<void>
}

/** The market rules of the default config, with a fixed relay key as the only root; `jobTtl` as given. */
export const testMarketRules = (jobTtl = 86400): MarketRules => ({
  flagThreshold: 3,
  jobTtl,
  disputeWindow: 86400,
  escrowMargin: 3600,
  standing: { roots: ['f'.repeat(64)], poolShare: 0.01, intervalMs: 0 },
})

/** Opens (creating) `dir/name` with the relay's schema; the caller closes it (and removes `dir`). */
export function openTestStore(dir: string, name = 'agora.sqlite', market?: MarketRules): TestStore {
  const file = join(dir, name)
  const db = openWriteDb(file, 'normal')
  const writer = createWriter(db, { batchMax: 1000, market })
  const reader = createReader(openReadDb(file))
  return {
    db,
    writer,
    reader,
    save: e => writer.enqueue(e as VerifiedEvent, canonicalJson(e)),
    async close() {
      await writer.close()
      reader.close()
    },
  }
}
