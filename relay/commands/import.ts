// agora import: JSONL events into the store through the writer, with the relay's write semantics.
// Bad lines are reported with their line number and skipped; the rest still go in.
import { createReadStream, mkdirSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Config } from '../../config/schema.js'
import { marketRules } from '../../market/fold.js'
import {
  canonicalJson,
  checkEventShape,
  checkId,
  formatRejection,
  isEphemeralKind,
  reject,
  type NostrEvent,
  type Rejection,
  type VerifiedEvent,
} from '../../nips/nip01.js'
import { isExpired } from '../../nips/nip40.js'
import { databaseFile } from '../app.js'
import { loadIdentity } from '../identity.js'
import { openWriteDb } from '../store/db.js'
import type { WriteOutcome } from '../store/writes.js'
import { makeVerifier, type Verifier } from '../verifier.js'
import { createWriter } from '../writer.js'
import { makeProgress } from './progress.js'

/** Totals of an import run. */
export type ImportReport = { saved: number; duplicates: number; refused: number }

function checkLine(line: string, verifier: Verifier | undefined, now: number): NostrEvent | Rejection {
  let e: unknown
  try {
    e = JSON.parse(line)
  } catch {
    return reject('invalid', 'not valid JSON')
  }
  const bad = checkEventShape(e) ?? checkId(e as NostrEvent)
  if (bad) return bad
  const ev = e as NostrEvent
  if (isEphemeralKind(ev.kind)) return reject('invalid', 'ephemeral events are not stored')
  if (isExpired(ev, now)) return reject('invalid', 'event has expired (NIP-40)')
  if (verifier && !verifier.verify(ev)) return reject('invalid', 'signature does not verify')
  return ev
}

export async function importEvents(cfg: Config, file: string, verify: boolean): Promise<ImportReport> {
  const dataDir = resolve(cfg.relay.data_dir)
  mkdirSync(dataDir, { recursive: true })
  const { pubkey } = await loadIdentity(cfg.relay.secret_key, dataDir)
  const writer = createWriter(openWriteDb(databaseFile(dataDir), cfg.store.synchronous as 'full' | 'normal'), {
    batchMax: cfg.store.batch_max,
    market: marketRules(cfg, pubkey),
  })
  const verifier = verify ? await makeVerifier(cfg.verifier.backend as 'auto' | 'wasm' | 'noble') : undefined
  const report: ImportReport = { saved: 0, duplicates: 0, refused: 0 }
  const progress = makeProgress('imported bytes', statSync(file).size)
  const refuse = (n: number, r: Rejection) => {
    report.refused++
    console.error(`line ${n}: ${formatRejection(r)}`)
  }
  const now = Math.floor(Date.now() / 1000)
  // Lines are handed to the writer a whole batch at a time: readline yields to the event loop between
  // chunks, and the writer would otherwise commit every few dozen events.
  let batch: { n: number; ev: NostrEvent }[] = []
  const flush = async () => {
    const outcomes = batch.map(({ ev }) => writer.enqueue(ev as VerifiedEvent, canonicalJson(ev)))
    const lines = batch.map(b => b.n)
    batch = []
    ;(await Promise.all(outcomes)).forEach((o: WriteOutcome, i) => {
      if (o.status === 'saved') report.saved++
      else if (o.status === 'duplicate') report.duplicates++
      else refuse(lines[i]!, o.rejection)
    })
  }
  let lineNo = 0
  let bytes = 0
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const n = ++lineNo
    bytes += Buffer.byteLength(line) + 1
    if (line.trim() === '') continue
    const ev = checkLine(line, verifier, now)
    if ('prefix' in ev) refuse(n, ev)
    else batch.push({ n, ev })
    if (batch.length >= cfg.store.batch_max) {
      await flush()
      progress.update(bytes)
    }
  }
  await flush()
  await writer.close()
  progress.done()
  return report
}
