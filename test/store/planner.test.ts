// Every main filter shape is driven by an index: EXPLAIN QUERY PLAN never shows a bare full scan of events.
import t from 'tap'
import { isRejection } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { planFilter, splitForOrder } from '../../relay/store/planner.js'
import { signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'
import { openTestStore } from '../helpers/store.js'

const H1 = '1'.repeat(64)
const H2 = '2'.repeat(64)

type Shape = { name: string; filter: Record<string, unknown>; index: RegExp; count?: false }
const SHAPES: Shape[] = [
  { name: 'ids', filter: { ids: [H1, H2] }, index: /USING (COVERING )?INDEX sqlite_autoindex_events_1 \(id=\?\)/ },
  { name: 'authors', filter: { authors: [H1] }, index: /USING (COVERING )?INDEX events_pubkey(_kind)? \(pubkey=\?/ },
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
    index: /USING (COVERING )?INDEX (tags_by_value \(name=\? AND value=\?|events_pubkey(_kind)? \(pubkey=\?)/,
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
  const plan = planFilter(f, 1_700_000_000, seqOnly, hideBanned)
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
  { name: 'several authors', filter: { authors: [H1, H2] }, parts: 2 },
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
