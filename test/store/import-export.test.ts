import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { initNostrWasm } from 'nostr-wasm'
import Database from 'better-sqlite3'
import { canonicalJson, type NostrEvent } from '../../nips/nip01.js'
import { bulkSigner, type Template } from '../../bench/bulk-sign.js'
import { runCli } from '../helpers/cli.js'
import { fastSigner } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

// The indexes an import into an empty store builds after the load (relay/store/db.ts).
const READ_INDEXES = ['events_created', 'events_kind', 'events_pubkey_kind', 'tags_by_value']

// Regular kinds only: nothing here is replaced, deleted or dropped, so export must give back every line.
const KINDS = [1, 7, 1111, 5100]
const BASE = 1_700_000_000
const CONTENTS = [
  'héllo wörld',
  'emoji 🌍🚀👩‍💻 and 日本語のテキスト',
  'עברית ومعها العربية',
  'quotes "inside", back\\slash, tab\tand\nnew line',
  'combining: e\u0301 a\u0300, zero width\u200bjoiner',
  '',
]

/** `count` templates across the regular kinds, with tags and unicode content; 20 events share each second. */
function templates(count: number): Template[] {
  return Array.from({ length: count }, (_, i) => {
    const tags: string[][] = [['t', `topic${i % 13}`]]
    if (i % 3 === 0)
      tags.push([
        'e',
        createHash('sha256')
          .update(`ref ${i % 50}`)
          .digest('hex'),
        '',
        'root',
      ])
    if (i % 5 === 0)
      tags.push([
        'p',
        createHash('sha256')
          .update(`person ${i % 50}`)
          .digest('hex'),
      ])
    if (i % 7 === 0) tags.push(['client', 'agora-test', 'ünïcødé ✓'])
    if (i % 11 === 0) tags.length = 0
    return {
      kind: KINDS[i % KINDS.length]!,
      created_at: BASE + Math.floor(i / 20),
      tags,
      content: `${CONTENTS[i % CONTENTS.length]} #${i}`,
    }
  })
}

/** Signs the templates round-robin with `keys` fresh keys. */
function signed(tpls: Template[], keys = 5): NostrEvent[] {
  const signers = Array.from({ length: keys }, () => bulkSigner())
  const perKey = signers.map((_, k) => tpls.filter((_, i) => i % keys === k))
  return signers.flatMap((s, k) => s.signAll(perKey[k]!))
}

/** The stored and exported form of an event. */
const line = canonicalJson

/** Export order: created_at ascending, then id ascending. */
const exportOrder = (a: NostrEvent, b: NostrEvent) =>
  a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** The JSONL file text of the events in export order. */
const jsonl = (events: NostrEvent[]) => [...events].sort(exportOrder).map(line).join('\n') + '\n'

/** A data dir inside the test's temp dir (created: a missing data dir has its own test). */
function dataDir(dir: string): string {
  const data = join(dir, 'data')
  mkdirSync(data)
  return data
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** The summary line import writes to stderr. */
const summary = (saved: number, duplicates: number, refused: number) =>
  `agora: imported ${saved}, duplicates ${duplicates}, refused ${refused}`

/** Imports `file` into `data`, asserting the process succeeded; returns its stderr. */
async function importFile(t: Test, file: string, data: string, verify = true, flags: string[] = []): Promise<string> {
  const args = ['import', file, '--data', data, ...(verify ? [] : ['--no-verify']), ...flags]
  const r = await runCli(args, { timeoutMs: 90_000 })
  t.equal(r.code, 0, `import exits 0; stderr: ${r.stderr.slice(-300)}`)
  return r.stderr
}

/** Exports `data` (with extra flags) to a file and returns the bytes written to stdout. */
async function exportData(t: Test, dir: string, data: string, flags: string[] = []): Promise<Buffer> {
  const out = join(dir, `export-${Math.random().toString(36).slice(2)}.jsonl`)
  const r = await runCli(['export', '--data', data, ...flags], { stdoutFile: out, timeoutMs: 60_000 })
  t.equal(r.code, 0, `export exits 0; stderr: ${r.stderr.slice(-300)}`)
  return readFileSync(out)
}

/** Asserts two JSONL buffers are identical, naming the first differing line when they are not. */
function sameBytes(t: Test, actual: Buffer, expected: Buffer, what: string): void {
  t.equal(actual.length, expected.length, `${what}: same length`)
  t.equal(sha256(actual), sha256(expected), `${what}: same sha256`)
  if (!actual.equals(expected)) {
    const a = actual.toString('utf8').split('\n')
    const e = expected.toString('utf8').split('\n')
    const i = a.findIndex((l, j) => l !== e[j])
    t.fail(`${what}: first difference at line ${i + 1}`, { found: a[i]?.slice(0, 400), wanted: e[i]?.slice(0, 400) })
  }
}

t.test('export gives back an imported file of 100,000 signed events byte for byte', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const events = signed(templates(100_000))
  t.equal(new Set(events.map(e => e.id)).size, 100_000, 'all ids distinct')
  // A sample checked by an independent verifier: the fixture is made of valid signed events.
  const nw = await initNostrWasm()
  let invalid = 0
  for (let i = 0; i < events.length; i += 250) {
    try {
      nw.verifyEvent(events[i]!)
    } catch {
      invalid++
    }
  }
  t.equal(invalid, 0, 'sampled events verify with nostr-wasm')
  const input = Buffer.from(jsonl(events))
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, input)

  // Verification of 100,000 signatures takes minutes on 2 loaded cores; the verified path has its own test.
  const stderr = await importFile(t, file, data, false)
  t.match(stderr, summary(100_000, 0, 0))
  sameBytes(t, await exportData(t, dir, data), input, 'export of 100,000 events')
})

t.test('a verified import stores 2,000 signed events and refuses none', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const input = Buffer.from(jsonl(signed(templates(2_000))))
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, input)
  const stderr = await importFile(t, file, data)
  t.match(stderr, summary(2_000, 0, 0))
  t.notMatch(stderr, /^line \d+:/m, 'no line refused')
  sameBytes(t, await exportData(t, dir, data), input, 'export after a verified import')
})

t.test('import refuses bad lines with their line numbers and stores the good ones', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const [a, b, c, d, e, f] = signed(templates(6), 2)
  const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1)
  const lines = [
    line(a!), // 1
    '{"id": "not json', // 2
    line(b!), // 3
    line({ ...c!, sig: flip(c!.sig) }), // 4: bad signature
    line(d!), // 5
    line({ ...e!, id: flip(e!.id) }), // 6: id is not the hash
    line(f!), // 7
  ]
  const file = join(dir, 'mixed.jsonl')
  writeFileSync(file, lines.join('\n') + '\n')
  const r = await runCli(['import', file, '--data', data], { timeoutMs: 180_000 })
  t.match(r.stderr, /^line 2: invalid: not valid JSON$/m)
  t.match(r.stderr, /^line 4: invalid: signature does not verify$/m)
  t.match(r.stderr, /^line 6: invalid: id is not the sha256/m)
  t.equal(r.stderr.match(/^line \d+:/gm)?.length, 3, 'only the three bad lines are named')
  t.match(r.stderr, summary(4, 0, 3))
  sameBytes(t, await exportData(t, dir, data), Buffer.from(jsonl([a!, b!, d!, f!])), 'export holds the good lines only')
})

t.test('importing the same file twice reports duplicates and changes nothing', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const input = Buffer.from(jsonl(signed(templates(500))))
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, input)
  t.match(await importFile(t, file, data), summary(500, 0, 0))
  const first = await exportData(t, dir, data)
  t.match(await importFile(t, file, data), summary(0, 500, 0))
  const second = await exportData(t, dir, data)
  sameBytes(t, second, first, 'export after the second import')
  sameBytes(t, second, input, 'export is the file')
})

t.test('an import into an empty store builds the query indexes after it, and they hold every event', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const [first, second] = [signed(templates(300)), signed(templates(300), 3)]
  const file = (name: string, events: NostrEvent[]) => {
    const f = join(dir, name)
    writeFileSync(f, jsonl(events))
    return f
  }
  const check = (what: string) => {
    const db = new Database(join(data, 'agora.sqlite'), { readonly: true, fileMustExist: true })
    try {
      const names = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
        .pluck()
      t.same(
        READ_INDEXES.filter(n => !(names.all() as string[]).includes(n)),
        [],
        `${what}: every query index is there`,
      )
      t.equal(db.pragma('integrity_check', { simple: true }), 'ok', `${what}: the indexes agree with the tables`)
      t.equal(
        db.prepare('SELECT count(*) FROM events INDEXED BY events_pubkey_kind').pluck().get(),
        300 * (what === 'first' ? 1 : 2),
      )
    } finally {
      db.close()
    }
  }
  t.match(await importFile(t, file('a.jsonl', first), data), summary(300, 0, 0))
  check('first')
  t.match(await importFile(t, file('b.jsonl', second), data), summary(300, 0, 0))
  check('second, into a store with events')
})

t.test('export --kinds selects only the listed kinds and ranges', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const events = signed(templates(400))
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, jsonl(events))
  t.match(await importFile(t, file, data), summary(400, 0, 0))
  const pick = (kinds: number[]) => Buffer.from(jsonl(events.filter(e => kinds.includes(e.kind))))
  sameBytes(t, await exportData(t, dir, data, ['--kinds', '7,1111']), pick([7, 1111]), '--kinds 7,1111')
  sameBytes(t, await exportData(t, dir, data, ['--kinds', '5000-5999']), pick([5100]), '--kinds 5000-5999')
  sameBytes(t, await exportData(t, dir, data, ['--kinds', '1,2-6']), pick([1]), '--kinds 1,2-6')
})

t.test('export --since and --until select an inclusive created_at window', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const events = signed(templates(400)) // created_at BASE .. BASE+19, 20 events per second
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, jsonl(events))
  t.match(await importFile(t, file, data), summary(400, 0, 0))
  const within = (lo: number, hi: number) =>
    Buffer.from(jsonl(events.filter(e => e.created_at >= lo && e.created_at <= hi)))
  const since = BASE + 5
  const until = BASE + 12
  sameBytes(t, await exportData(t, dir, data, ['--since', `${since}`]), within(since, Infinity), '--since')
  sameBytes(t, await exportData(t, dir, data, ['--until', `${until}`]), within(0, until), '--until')
  sameBytes(
    t,
    await exportData(t, dir, data, ['--since', `${since}`, '--until', `${until}`]),
    within(since, until),
    '--since with --until',
  )
  sameBytes(
    t,
    await exportData(t, dir, data, ['--since', `${since}`, '--until', `${since}`]),
    within(since, since),
    'one second',
  )
})

t.test('import into a data dir that does not exist yet creates it', async t => {
  const dir = tempDir(t)
  const data = join(dir, 'new', 'data')
  const input = Buffer.from(jsonl(signed(templates(10))))
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, input)
  t.match(await importFile(t, file, data), summary(10, 0, 0))
  t.ok(existsSync(join(data, 'agora.sqlite')), 'the database was created')
  sameBytes(t, await exportData(t, dir, data), input, 'export of the new data dir')
})

/** `count` signed regular events of about 700 bytes each, so a few thousand fill several of import's 1 MiB chunks. */
function bulkFile(count: number): NostrEvent[] {
  return signed(templates(count).map(t => ({ ...t, content: `${t.content} ${'padding '.repeat(40)}` })))
}

t.test('a bad signature deep in a file of several chunks is named by its line and not stored', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const events = bulkFile(8_000).sort(exportOrder)
  const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1)
  const bad = [4_321, 7_999] // 0-based: lines 4,322 and 8,000 (the last)
  const lines = events.map((e, i) => line(bad.includes(i) ? { ...e, sig: flip(e.sig) } : e))
  const text = lines.join('\n') + '\n'
  t.ok(text.length > 3 * 2 ** 20, 'the file spans several chunks')
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, text)
  const stderr = await importFile(t, file, data)
  t.match(stderr, /^line 4322: invalid: signature does not verify$/m)
  t.match(stderr, /^line 8000: invalid: signature does not verify$/m)
  t.equal(stderr.match(/^line \d+:/gm)?.length, 2, 'only the two bad lines are named')
  t.match(stderr, summary(7_998, 0, 2))
  const good = events.filter((_, i) => !bad.includes(i))
  sameBytes(t, await exportData(t, dir, data), Buffer.from(jsonl(good)), 'export holds every other line')
})

t.test(
  'import keeps file order across chunks and batches: deletions and replacements apply as on the relay',
  async t => {
    const dir = tempDir(t)
    const data = dataDir(dir)
    const filler = bulkFile(6_000)
    const author = fastSigner()
    const target = author.sign({ content: 'deleted later in the file', created_at: BASE })
    const deletion = author.sign({ kind: 5, tags: [['e', target.id]], created_at: BASE + 1 })
    const older = author.sign({ kind: 0, content: '{"name":"old"}', created_at: BASE })
    const newer = author.sign({ kind: 0, content: '{"name":"new"}', created_at: BASE + 1 })
    // The target and the older profile in the first chunk, the deletion and the newer profile chunks later: out of
    // order, the target would be refused as deleted and the older profile as superseded.
    const lines = [line(target), line(older), ...filler.map(line)]
    lines.splice(5_000, 0, line(deletion), line(newer))
    const file = join(dir, 'in.jsonl')
    writeFileSync(file, lines.join('\n') + '\n')
    const stderr = await importFile(t, file, data, false, ['--batch', '97'])
    t.notMatch(stderr, /^line \d+:/m, 'no line refused')
    t.match(stderr, summary(6_004, 0, 0))
    const stored = new Set(
      (await exportData(t, dir, data))
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map(l => (JSON.parse(l) as NostrEvent).id),
    )
    t.notOk(stored.has(target.id), 'the deleted event is gone')
    t.notOk(stored.has(older.id), 'the older profile was replaced')
    t.ok(stored.has(deletion.id), 'the deletion is stored')
    t.ok(stored.has(newer.id), 'the newer profile is stored')
    t.equal(stored.size, 6_002, 'and every other event')
  },
)

t.test('the totals add up over many small batches: saved, duplicates and refused lines', async t => {
  const dir = tempDir(t)
  const data = dataDir(dir)
  const events = bulkFile(5_000)
  const lines = events.map(line)
  lines.splice(1_000, 0, lines[10]!) // a duplicate of an earlier line
  lines.splice(3_000, 0, '') // a blank line: skipped, still counted in the numbering
  lines.splice(3_500, 0, '[1,2,3]') // line 3,501
  lines.push(lines[4_000]!) // a duplicate as the last line
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, lines.join('\n'))
  const stderr = await importFile(t, file, data, true, ['--batch', '13'])
  t.match(stderr, /^line 3501: invalid: event must be a JSON object$/m)
  t.equal(stderr.match(/^line \d+:/gm)?.length, 1, 'only the malformed line is named')
  t.match(stderr, summary(5_000, 2, 1))
  sameBytes(t, await exportData(t, dir, data), Buffer.from(jsonl(events)), 'export holds each event once')
})

t.test('import refuses a batch size that is not a positive number', async t => {
  const dir = tempDir(t)
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, '')
  const r = await runCli(['import', file, '--data', dataDir(dir), '--batch', '0'])
  t.equal(r.code, 2)
  t.match(r.stderr, /--batch must be a number of events/)
})
