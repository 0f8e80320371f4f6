// agora import: JSONL events into the store through the writer, with the relay's write semantics.
// Bad lines are reported with their line number and skipped; the rest still go in.
//
// Three stages on their own threads (DESIGN §11): the event loop only reads the file in chunks of whole lines; the
// verification workers parse and check each chunk (JSON, shape, id, signature) and hand back canonical JSON; the
// writer thread parses that again and commits it in large batches. Chunks reach the writer in file order, so a
// deletion or a newer replaceable version meets the events before it as it would on the relay.
import { createReadStream, mkdirSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Config } from '../../config/schema.js'
import { marketRules } from '../../market/fold.js'
import { formatRejection } from '../../nips/nip01.js'
import { databaseFile } from '../app.js'
import { loadIdentity } from '../identity.js'
import { dropReadIndexes, openWriteDb } from '../store/db.js'
import type { WriteOutcome } from '../store/writes.js'
import { createLineChecker } from '../verify-pool.js'
import { openWriter } from '../writer-thread.js'
import type { CheckedLines } from '../import-check.js'
import { makeProgress, type Progress } from './progress.js'

/** Totals of an import run. */
export type ImportReport = { saved: number; duplicates: number; refused: number }

export type ImportOptions = {
  /** Check signatures (ids are always checked). */
  readonly verify: boolean
  /** Most events per writer transaction; IMPORT_BATCH unless given. */
  readonly batch?: number
}

/**
 * Events per writer transaction: each commit rewrites the random index pages it touched, so more is cheaper. Measured
 * on 1M events with verification: 240 s in batches of 10,000, 151 s of 50,000, 145 s of 100,000 (but 2.8 GB RSS).
 */
export const IMPORT_BATCH = 50_000
// Bytes of the file per chunk handed to a worker: about 500 events of the bench's corpus.
const CHUNK_BYTES = 1 << 20
// Chunks waiting on or at the workers, per worker: one being checked, one queued.
const CHUNKS_AHEAD = 2

/** True when the store holds no events yet; its read indexes are then dropped, to be built after the load. */
function emptyStore(file: string, synchronous: 'full' | 'normal'): boolean {
  const db = openWriteDb(file, synchronous)
  try {
    const empty = db.prepare('SELECT NOT EXISTS (SELECT 1 FROM events)').pluck().get() === 1
    if (empty) dropReadIndexes(db)
    return empty
  } finally {
    db.close()
  }
}

/** Builds the read indexes left out during the load (any open for writing builds what is missing). */
function buildReadIndexes(file: string, synchronous: 'full' | 'normal'): void {
  const started = performance.now()
  if (process.stderr.isTTY) process.stderr.write('building the query indexes...\n')
  openWriteDb(file, synchronous).close()
  if (process.stderr.isTTY)
    process.stderr.write(`query indexes built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
}

/** The file in chunks of whole lines (the last maybe without its newline), with the bytes read so far. */
async function* chunksOf(file: string): AsyncGenerator<{ lines: Buffer; read: number }> {
  let carry = Buffer.alloc(0)
  let read = 0
  for await (const buf of createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    read += buf.length
    const end = buf.lastIndexOf(10)
    if (end < 0) {
      carry = Buffer.concat([carry, buf])
      continue
    }
    yield { lines: Buffer.concat([carry, buf.subarray(0, end + 1)]), read }
    carry = Buffer.from(buf.subarray(end + 1))
  }
  if (carry.length > 0) yield { lines: carry, read }
}

/** Lines (without their newlines) in chunks of about CHUNK_BYTES, each with how many lines it has read so far. */
export async function* chunksOfLines(lines: readonly string[]): AsyncGenerator<{ lines: Buffer; read: number }> {
  let from = 0
  let bytes = 0
  for (let i = 0; i < lines.length; i++) {
    bytes += lines[i]!.length + 1
    if (bytes < CHUNK_BYTES && i < lines.length - 1) continue
    yield { lines: Buffer.from(lines.slice(from, i + 1).join('\n') + '\n'), read: i + 1 }
    from = i + 1
    bytes = 0
  }
}

/** Where a load's events come from and how it reports them. */
export type LineSource = {
  /** Whole JSONL lines in chunks, each with how far the source has been read (the progress line's count). */
  readonly chunks: AsyncIterable<{ lines: Buffer; read: number }>
  readonly progress: Progress
  /** How a refusal names the line (numbered from 1): `line 4` for a file. */
  readonly name: (line: number) => string
}

/** Imports a JSONL file (see the file comment). */
export const importEvents = (cfg: Config, file: string, opts: ImportOptions): Promise<ImportReport> =>
  loadLines(
    cfg,
    { chunks: chunksOf(file), progress: makeProgress('read bytes', statSync(file).size), name: n => `line ${n}` },
    opts,
  )

/** Writes the events of `source`'s lines through the writer, in their order, as `agora import` does a file's. */
export async function loadLines(cfg: Config, source: LineSource, opts: ImportOptions): Promise<ImportReport> {
  const dataDir = resolve(cfg.relay.data_dir)
  mkdirSync(dataDir, { recursive: true })
  const { pubkey } = await loadIdentity(cfg.relay.secret_key, dataDir)
  const batch = opts.batch ?? IMPORT_BATCH
  const workers = Math.max(1, cfg.verifier.workers)
  const checker = await createLineChecker(cfg.verifier.backend as 'auto' | 'wasm' | 'noble', workers)
  const dbFile = databaseFile(dataDir)
  const synchronous = cfg.store.synchronous as 'full' | 'normal'
  // Into an empty store, the indexes only queries read are built after the load (a sort each) instead of taking a
  // random page per event each (README, Performance: 1M events with verification went from 196 s to under 100).
  const deferIndexes = emptyStore(dbFile, synchronous)
  // On its thread: the writer parses the events there (`load`), so none is built on the event loop.
  const writer = await openWriter({
    file: dbFile,
    readIndexes: !deferIndexes,
    synchronous,
    batchMax: batch,
    market: marketRules(cfg, pubkey),
    thread: true,
    onCommitted: () => {},
  })
  const report: ImportReport = { saved: 0, duplicates: 0, refused: 0 }
  const progress = source.progress
  let read = 0
  const refuse = (n: number, message: string) => {
    report.refused++
    console.error(`${source.name(n)}: ${message}`)
  }
  const now = Math.floor(Date.now() / 1000)

  // Chunks at the workers, in file order; the writes of chunks handed to the writer, oldest first.
  const checking: Promise<CheckedLines>[] = []
  const writing: Promise<void>[] = []
  let inWriter = 0
  let lineBase = 0
  const tally = (outcomes: WriteOutcome[], lineOf: (i: number) => number) => {
    inWriter -= outcomes.length
    outcomes.forEach((o, i) => {
      if (o.status === 'saved') report.saved++
      else if (o.status === 'duplicate') report.duplicates++
      else refuse(lineOf(i), formatRejection(o.rejection))
    })
    progress.update(read, report.saved + report.duplicates + report.refused)
  }
  /** Hands the oldest checked chunk to the writer, waiting while the writer holds two batches. */
  const writeNext = async () => {
    const c = await checking.shift()!
    const base = lineBase
    lineBase += c.lines
    for (const [i, message] of c.refused) refuse(base + i + 1, message)
    inWriter += c.raws.length
    const outcomes = c.raws.map(raw => writer.load(raw))
    const written = Promise.all(outcomes).then(os => tally(os, i => base + c.at[i]! + 1))
    // A failure is thrown where the write is awaited; until then it must not count as unhandled.
    written.catch(() => {})
    writing.push(written)
    while (inWriter > 2 * batch) await writing.shift()
  }

  try {
    for await (const chunk of source.chunks) {
      read = chunk.read
      const checked = checker.check(chunk.lines, now, opts.verify)
      checked.catch(() => {})
      checking.push(checked)
      if (checking.length >= CHUNKS_AHEAD * workers) await writeNext()
    }
    while (checking.length > 0) await writeNext()
    await Promise.all(writing)
  } finally {
    await checker.close()
    await writer.close()
    progress.done()
    // Even after a failure: the events stored so far are queryable only through these indexes.
    if (deferIndexes) buildReadIndexes(dbFile, synchronous)
  }
  return report
}
