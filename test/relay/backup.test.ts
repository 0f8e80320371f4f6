// agora backup FILE: SQLite's online backup of the store, taken while a spawned relay (its writer on a thread of
// its own) stores events sent over WebSocket; the copy is consistent, and a relay restored from it serves it.
import t from 'tap'
import Database from 'better-sqlite3'
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, startCli } from '../helpers/cli.js'
import { connectFor } from '../helpers/client.js'
import { fastSigner } from '../helpers/events.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'

const LINE = /^agora: backed up (\d+) pages \((\d+) bytes, [\d.]+ MB\) to (.+) in [\d.]+ s\n$/

/** PRAGMA integrity_check of a database file, opened read-only. */
function integrity(file: string): unknown {
  const db = new Database(file, { readonly: true })
  try {
    return db.pragma('integrity_check', { simple: true })
  } finally {
    db.close()
  }
}

t.test('a backup taken while events stream in is consistent, and a relay restored from it serves them', async t => {
  const dataDir = tempDir(t)
  const relay = await startCli(t, dataDir, 60_000)
  const c = await connectFor(t, relay.url)
  // About 6 MB stored first, so that the copy takes several steps.
  const base = fastSigner()
  const content = 'x'.repeat(4000)
  const stored = Array.from({ length: 1500 }, (_, i) => base.sign({ content: `${content} ${i}` }))
  for (let i = 0; i < stored.length; i += 100) {
    const oks = await Promise.all(stored.slice(i, i + 100).map(e => c.publish(e)))
    t.ok(
      oks.every(ok => ok[2] === true),
      `events ${i}-${i + 99} stored`,
    )
  }

  // One event at a time, each sent after the last one's OK: the copy must hold a prefix of them.
  const live = fastSigner()
  const sent: string[] = []
  let acked = 0
  let streaming = true
  const stream = (async () => {
    const ingest = await connectFor(t, relay.url)
    while (streaming) {
      const e = live.sign({ content: `live ${sent.length}` })
      sent.push(e.id)
      const ok = await ingest.publish(e)
      if (ok[2] !== true) throw new Error(`live event refused: ${JSON.stringify(ok)}`)
      acked++
    }
  })()
  while (acked < 5) await new Promise(r => setTimeout(r, 20))

  const file = join(tempDir(t), 'copy.sqlite')
  const ackedBefore = acked
  const r = await runCli(['backup', file, '--data', dataDir], { timeoutMs: 120_000 })
  const ackedAfter = acked
  streaming = false
  await stream
  t.equal(r.code, 0, r.stderr)
  t.ok(ackedAfter > ackedBefore, `the relay stored events while the backup ran (${ackedAfter - ackedBefore})`)
  const m = LINE.exec(r.stderr)
  t.ok(m, `a final line with pages, bytes and time: ${r.stderr}`)
  t.equal(m?.[3], file, 'names the file')
  t.equal(Number(m?.[2]), statSync(file).size, 'the bytes written')
  t.equal(integrity(file), 'ok', 'the copy passes integrity_check')
  t.notOk(existsSync(`${file}.partial`), 'no partial copy is left')

  // Restore: the copy as the database file of an empty data dir.
  const restoredDir = tempDir(t)
  copyFileSync(file, join(restoredDir, 'agora.sqlite'))
  const restored = await startTestRelay(t, {}, restoredDir)
  t.equal(
    (await storedIds(restored.url, { authors: [base.pubkey], limit: 5000 })).length,
    stored.length,
    'every event stored before the backup',
  )
  const served = (await storedIds(restored.url, { authors: [live.pubkey], limit: 5000 })).sort()
  const prefix = sent.slice(0, served.length)
  t.ok(served.length >= ackedBefore, `the ${ackedBefore} live events committed before the backup started are served`)
  t.same(served, [...prefix].sort(), `the live events it serves are the first ${served.length} sent, without a gap`)
})

t.test('backup refuses an existing file unless --force, and never writes over the store', async t => {
  const r = await startTestRelay(t)
  const file = join(tempDir(t), 'copy.sqlite')
  writeFileSync(file, 'not a backup')
  const refused = await runCli(['backup', file, '--data', r.dataDir])
  t.equal(refused.code, 1)
  t.equal(refused.stderr, `agora: ${file} exists; pass --force to replace it\n`)
  t.equal(readFileSync(file, 'utf8'), 'not a backup', 'the file is untouched')

  const forced = await runCli(['backup', file, '--force', '--data', r.dataDir])
  t.equal(forced.code, 0, forced.stderr)
  t.match(forced.stderr, LINE)
  t.equal(integrity(file), 'ok', '--force replaces it with a copy of the store')

  const store = join(r.dataDir, 'agora.sqlite')
  const before = readFileSync(store)
  const self = await runCli(['backup', store, '--force', '--data', r.dataDir])
  t.equal(self.code, 1)
  t.equal(self.stderr, `agora: ${store} is the store itself\n`)
  t.ok(readFileSync(store).equals(before), 'the store is untouched')

  const usage = await runCli(['backup', '--data', r.dataDir])
  t.equal(usage.code, 2, 'a backup needs a file')
  t.match(usage.stderr, /^agora: backup takes one file/)
})
