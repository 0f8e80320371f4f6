// Every main filter shape is driven by an index: EXPLAIN QUERY PLAN never shows a bare full scan of events.
import t from 'tap'
import { isRejection } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { authorKindsBudget, planFilter, splitForOrder } from '../../relay/store/planner.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'
import { openTestStore } from '../helpers/store.js'

const H1 = '1'.repeat(64)
const H2 = '2'.repeat(64)

type Shape = { name: string; filter: Record<string, unknown>; index: RegExp; count?: false }
const SHAPES: Shape[] = [
  { name: 'ids', filter: { ids: [H1, H2] }, index: /USING (COVERING )?INDEX sqlite_autoindex_events_1 \(id=\?\)/ },
  { name: 'authors', filter: { authors: [H1] }, index: /USING (COVERING )?INDEX events_pubkey_kind \(pubkey=\?/ },
  {
    name: 'authors and kinds',
    filter: { authors: [H1, H2], kinds: [1, 7] },
    index: /USING (COVERING )?INDEX events_pubkey_kind \(pubkey=\? AND kind=\?/,
  },
  { name: 'kinds', filter: { kinds: [1] }, index: /USING (COVERING )?INDEX events_kind \(kind=\?/ },
  { name: 'several kinds', filter: { kinds: [1, 7, 1000] }, index: /USING (COVERING )?INDEX events_kind \(kind=\?/ },
  {
    name: 'one tag',
    filter: { '#t': ['x'] },
    index: /USING (COVERING )?INDEX tags_by_value \(name=\? AND value=\?/,
  },
  {
    name: 'one tag with several values',
    filter: { '#p': [H1, H2] },
    index: /USING (COVERING )?INDEX tags_by_value \(name=\? AND value=\?/,
  },
  {
    name: 'tag and kinds',
    filter: { '#e': [H1], kinds: [1, 7] },
    index: /USING (COVERING )?INDEX tags_by_value \(name=\? AND value=\?/,
  },
  {
    name: 'tag and authors',
    filter: { '#t': ['x'], authors: [H1] },
    index: /USING (COVERING )?INDEX (tags_by_value \(name=\? AND value=\?|events_pubkey_kind \(pubkey=\?)/,
  },
  {
    name: 'since and until only',
    filter: { since: 10, until: 20 },
    index: /USING (COVERING )?INDEX events_created \(created_at>\?/,
  },
  { name: 'since only', filter: { since: 10 }, index: /USING (COVERING )?INDEX events_created \(created_at>\?/ },
  // COUNT of {} has to visit every row, so only the REQ plan is checked for it.
  { name: 'the empty filter', filter: {}, index: /SCAN e USING (COVERING )?INDEX events_created/, count: false },
]

/** The EXPLAIN QUERY PLAN lines of the planned SQL. */
function explain(
  db: ReturnType<typeof openTestStore>['db'],
  f: CompiledFilter,
  seqOnly: boolean,
  hideBanned = false,
): string[] {
  const plan = planFilter(f, 1_700_000_000, seqOnly ? 'seq' : 'rows', hideBanned)
  return (db.prepare(`EXPLAIN QUERY PLAN ${plan.sql}`).all(...plan.params) as { detail: string }[]).map(r => r.detail)
}

/** A scan of events or tags with no index behind it. */
const bareScan = (line: string) => /^SCAN (e|t|x|events|tags)$/.test(line.trim())

const store = openTestStore(tempDir(t))
t.teardown(() => store.close())
const author = signer()
for (let i = 0; i < 20; i++)
  await store.save(author.sign({ kind: 1 + (i % 3), tags: [['t', `v${i % 4}`]], content: `${i}` }))

for (const shape of SHAPES) {
  t.test(`a REQ for ${shape.name} is planned on its index`, async t => {
    const f = compileFilter(shape.filter, { maxValues: 500 })
    if (isRejection(f)) throw new Error(f.reason)
    const plan = explain(store.db, f, false)
    t.match(plan.join('\n'), shape.index, plan.join(' | '))
    t.notOk(plan.some(bareScan), `no bare scan: ${plan.join(' | ')}`)
  })
  t.test(`a REQ for ${shape.name} with bans in force keeps its index and looks bans up by key`, async t => {
    const f = compileFilter(shape.filter, { maxValues: 500 })
    if (isRejection(f)) throw new Error(f.reason)
    const plan = explain(store.db, f, false, true)
    t.match(plan.join('\n'), shape.index, plan.join(' | '))
    t.notOk(plan.some(bareScan), `no bare scan: ${plan.join(' | ')}`)
    t.match(plan.join('\n'), /SEARCH b USING PRIMARY KEY \(pubkey=\?\)/)
    t.match(plan.join('\n'), /SEARCH b USING PRIMARY KEY \(id=\?\)/)
  })
  if (shape.count === false) continue
  t.test(`a COUNT for ${shape.name} is planned on its index`, async t => {
    const f = compileFilter(shape.filter, { maxValues: 500 })
    if (isRejection(f)) throw new Error(f.reason)
    const plan = explain(store.db, f, true)
    t.match(plan.join('\n'), shape.index, plan.join(' | '))
    t.notOk(plan.some(bareScan), `no bare scan: ${plan.join(' | ')}`)
  })
}

// A REQ whose driving field has several values is read as one index-ordered cursor per value and merged,
// so no part may sort all its matches before the limit applies.
const SPLITS: { name: string; filter: Record<string, unknown>; parts: number }[] = [
  { name: 'several kinds', filter: { kinds: [1, 7, 1000] }, parts: 3 },
  // Authors alone are given the kinds they have by the reader first (authorKindsBudget, below).
  { name: 'several authors with the kinds they have', filter: { authors: [H1, H2], kinds: [1, 2, 3] }, parts: 6 },
  { name: 'authors and kinds', filter: { authors: [H1, H2], kinds: [1, 7] }, parts: 4 },
  { name: 'a tag with several values', filter: { '#p': [H1, H2] }, parts: 2 },
  { name: 'two tag values and several kinds', filter: { '#t': ['x', 'y'], kinds: [1, 7] }, parts: 2 },
]
for (const shape of SPLITS) {
  t.test(`a REQ for ${shape.name} is split into ${shape.parts} parts read in index order`, async t => {
    const f = compileFilter(shape.filter, { maxValues: 500 })
    if (isRejection(f)) throw new Error(f.reason)
    const parts = splitForOrder(f)
    t.equal(parts.length, shape.parts)
    for (const part of parts) {
      const plan = explain(store.db, part, false)
      t.notOk(
        plan.some(l => l.includes('TEMP B-TREE FOR ORDER BY')),
        `no full sort: ${plan.join(' | ')}`,
      )
      t.notOk(plan.some(bareScan), `no bare scan: ${plan.join(' | ')}`)
    }
  })
}

t.test('a tag with several kinds is one cursor on the tag index, the kinds checked on each entry', async t => {
  const f = compileFilter({ '#t': ['x'], kinds: [1, 7] }, { maxValues: 500 })
  if (isRejection(f)) throw new Error(f.reason)
  const parts = splitForOrder(f)
  t.equal(parts.length, 1)
  const plan = explain(store.db, parts[0]!, false).join(' | ')
  t.match(plan, /INDEX tags_by_value \(name=\? AND value=\?\)/)
  t.notMatch(plan, /TEMP B-TREE FOR ORDER BY/)
})

t.test('a filter with more values than the stream cap is not split', async t => {
  const f = compileFilter({ kinds: Array.from({ length: 40 }, (_, i) => i) }, { maxValues: 500 })
  if (isRejection(f)) throw new Error(f.reason)
  t.equal(splitForOrder(f).length, 1)
})

t.test('authors alone are read per kind they have, while authors × kinds fit the stream cap', async t => {
  const budget = (filter: Record<string, unknown>) => {
    const f = compileFilter(filter, { maxValues: 500 })
    if (isRejection(f)) throw new Error(f.reason)
    return authorKindsBudget(f)
  }
  t.equal(budget({ authors: [H1] }), 32)
  t.equal(budget({ authors: [H1, H2], since: 10 }), 16)
  t.equal(budget({ authors: Array.from({ length: 33 }, (_, i) => i.toString(16).padStart(64, '0')) }), undefined)
  t.equal(budget({ authors: [H1], kinds: [1] }), undefined, 'kinds given: split as they are')
  t.equal(budget({ authors: [H1], '#t': ['x'] }), undefined, 'a tag drives the query')
  t.equal(budget({ ids: [H2], authors: [H1] }), undefined)
})

t.test('the next kind of an author is one seek in the author index', async t => {
  const plan = (
    store.db
      .prepare('EXPLAIN QUERY PLAN SELECT kind FROM events WHERE pubkey = ? AND kind > ? ORDER BY kind LIMIT 1')
      .all(H1, -1) as { detail: string }[]
  ).map(r => r.detail)
  t.match(plan.join(' | '), /SEARCH events USING COVERING INDEX events_pubkey_kind \(pubkey=\? AND kind>\?\)/)
  t.notMatch(plan.join(' | '), /TEMP B-TREE/)
})

t.test(
  'authors alone, read per kind: newest first, the lowest ids of a tie, and nothing for an author with none',
  async t => {
    const s = openTestStore(tempDir(t))
    t.teardown(() => s.close())
    const b = signer()
    const at = 1_700_000_000
    const tied = Array.from({ length: 12 }, (_, i) =>
      b.sign({ kind: [1, 7, 1000][i % 3]!, created_at: at, content: `tie ${i}` }),
    )
    const newer = b.sign({ kind: 5100, created_at: at + 1, content: 'newer' })
    for (const e of [...tied, newer]) await s.save(e)
    const ask = (filter: Record<string, unknown>, limit: number) => {
      const f = compileFilter(filter, { maxValues: 500 })
      if (isRejection(f)) throw new Error(f.reason)
      return s.reader.query([{ filter: f, limit }], at + 10, 5000).map(r => r.id)
    }
    const lowest = tied.map(e => e.id).sort()
    t.same(ask({ authors: [b.pubkey] }, 6), [newer.id, ...lowest.slice(0, 5)])
    t.same(ask({ authors: [b.pubkey, H1] }, 20), [newer.id, ...lowest])
    t.same(ask({ authors: [H2] }, 20), [])
  },
)
