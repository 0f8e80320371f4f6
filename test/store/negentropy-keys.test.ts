// The reader's NIP-77 sets: every match's (created_at, id), the newest `limit` with one, and refusals past the records
// cap or the time budget instead of a partial set.
import t from 'tap'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { isRejection } from '../../nips/nip01.js'
import { QueryBudgetExceeded, TooManyRecords } from '../../relay/store/reader.js'
import { fastSigner, now } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'
import { openTestStore } from '../helpers/store.js'

const filter = (raw: unknown): CompiledFilter => {
  const f = compileFilter(raw, { maxValues: 500 })
  if (isRejection(f)) throw new Error(f.reason)
  return f
}

function thrown(f: () => unknown): unknown {
  try {
    f()
  } catch (err) {
    return err
  }
  return undefined
}

t.test('keys of a filter', async t => {
  const store = openTestStore(tempDir(t))
  t.teardown(() => store.close())
  const author = fastSigner()
  const t0 = now() - 100
  // Two #t values each, so the tag join meets every event twice.
  const events = Array.from({ length: 40 }, (_, i) =>
    author.sign({
      kind: i % 2 ? 1 : 7,
      created_at: t0 + (i % 5),
      content: String(i),
      tags: [
        ['t', 'a'],
        ['t', 'b'],
      ],
    }),
  )
  await Promise.all(events.map(e => store.save(e)))
  const pairs = (raw: unknown, max = 1000) => store.reader.keys(filter(raw), now(), 10_000, max)
  const sorted = (ps: readonly (readonly [number, string])[]) =>
    [...new Set(ps.map(([ts, id]) => `${ts} ${id}`))].sort()
  const expected = (es: typeof events) => es.map(e => `${e.created_at} ${e.id}`).sort()

  t.same(sorted(pairs({ kinds: [1] })), expected(events.filter(e => e.kind === 1)))
  t.same(sorted(pairs({ '#t': ['a', 'b'], kinds: [7] })), expected(events.filter(e => e.kind === 7)))
  const newest = [...events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)).slice(0, 6)
  t.same(sorted(pairs({ '#t': ['a', 'b'], limit: 6 })), expected(newest), 'a limit keeps the newest, once each')
  t.ok(thrown(() => pairs({ kinds: [1] }, 19)) instanceof TooManyRecords, 'past the records cap')
  t.equal(pairs({ kinds: [1] }, 20).length, 20, 'at the cap')
  t.ok(
    thrown(() => store.reader.keys(filter({ kinds: [1] }), now(), -1, 1000)) instanceof QueryBudgetExceeded,
    'past the budget',
  )
})
