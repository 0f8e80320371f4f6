import t from 'tap'
import { isRejection, type NostrEvent } from '../../nips/nip01.js'
import { compileFilter, matchFilter, type CompiledFilter } from '../../nips/nip01-filter.js'

const LIMITS = { maxValues: 3 }
const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const C = 'c'.repeat(64)

/** Compiles a filter that must be valid. */
function compiled(raw: unknown): CompiledFilter {
  const f = compileFilter(raw, LIMITS)
  if (isRejection(f)) throw new Error(`expected a valid filter, got ${JSON.stringify(f)}`)
  return f
}

t.test('compileFilter refuses each invalid key, type and value with invalid: and a specific reason', async t => {
  const HEX = '64-character lowercase hex strings'
  const cases: [string, unknown, string][] = [
    ['null', null, 'filter must be a JSON object'],
    ['an array', [{}], 'filter must be a JSON object'],
    ['a string', 'kinds', 'filter must be a JSON object'],
    ['a number', 1, 'filter must be a JSON object'],
    ['ids not a list', { ids: A }, 'filter "ids" must be an array'],
    ['too many ids', { ids: [A, B, C, A] }, 'filter "ids" has 4 values, limit 3'],
    ['uppercase id', { ids: [A.toUpperCase()] }, `filter "ids" must hold ${HEX}`],
    ['id prefix', { ids: ['aaaa'] }, `filter "ids" must hold ${HEX}`],
    ['numeric id', { ids: [1] }, `filter "ids" must hold ${HEX}`],
    ['authors not a list', { authors: {} }, 'filter "authors" must be an array'],
    ['too many authors', { authors: [A, B, C, A] }, 'filter "authors" has 4 values, limit 3'],
    ['65-char author', { authors: [A + 'a'] }, `filter "authors" must hold ${HEX}`],
    ['kinds not a list', { kinds: 1 }, 'filter "kinds" must be an array'],
    ['too many kinds', { kinds: [1, 2, 3, 4] }, 'filter "kinds" has 4 values, limit 3'],
    ['negative kind', { kinds: [-1] }, 'filter "kinds" must hold integers between 0 and 65535'],
    ['kind too large', { kinds: [65536] }, 'filter "kinds" must hold integers between 0 and 65535'],
    ['fractional kind', { kinds: [1.5] }, 'filter "kinds" must hold integers between 0 and 65535'],
    ['string kind', { kinds: ['1'] }, 'filter "kinds" must hold integers between 0 and 65535'],
    ['negative since', { since: -1 }, 'filter "since" must be a non-negative integer'],
    ['string since', { since: '1700000000' }, 'filter "since" must be a non-negative integer'],
    ['fractional until', { until: 1.5 }, 'filter "until" must be a non-negative integer'],
    ['null until', { until: null }, 'filter "until" must be a non-negative integer'],
    ['negative limit', { limit: -1 }, 'filter "limit" must be a non-negative integer'],
    ['string limit', { limit: '10' }, 'filter "limit" must be a non-negative integer'],
    ['unsafe limit', { limit: 2 ** 53 }, 'filter "limit" must be a non-negative integer'],
    ['#e not a list', { '#e': A }, 'filter "#e" must be an array'],
    ['#e not hex', { '#e': ['note1xyz'] }, `filter "#e" must hold ${HEX}`],
    ['#p uppercase', { '#p': [B.toUpperCase()] }, `filter "#p" must hold ${HEX}`],
    ['#t number', { '#t': [1] }, 'filter "#t" must hold strings'],
    ['too many #t', { '#t': ['a', 'b', 'c', 'd'] }, 'filter "#t" has 4 values, limit 3'],
    ['multi-letter tag', { '#tt': ['x'] }, 'unknown filter key "#tt"'],
    ['digit tag', { '#1': ['x'] }, 'unknown filter key "#1"'],
    ['bare #', { '#': ['x'] }, 'unknown filter key "#"'],
    ['tag without #', { t: ['x'] }, 'unknown filter key "t"'],
    ['unknown key', { foo: 1 }, 'unknown filter key "foo"'],
    ['search (NIP-50)', { search: 'nostr' }, 'search (NIP-50) is not supported by this relay'],
  ]
  for (const [name, raw, reason] of cases) {
    const r = compileFilter(raw, LIMITS)
    t.same(r, { prefix: 'invalid', reason }, name)
  }
})

t.test('compileFilter turns a valid filter into sets and keeps its bounds', async t => {
  const f = compiled({
    ids: [A],
    authors: [B, C],
    kinds: [0, 65535],
    '#e': [A],
    '#t': ['x', ''],
    '#T': ['X'],
    since: 0,
    until: 10,
    limit: 0,
  })
  t.same([...f.ids!], [A])
  t.same([...f.authors!], [B, C])
  t.same([...f.kinds!], [0, 65535])
  t.same(
    f.tags.map(([n, v]) => [n, [...v]]),
    [
      ['e', [A]],
      ['t', ['x', '']],
      ['T', ['X']],
    ],
  )
  t.equal(f.since, 0)
  t.equal(f.until, 10)
  t.equal(f.limit, 0)
  t.equal(f.never, false)
})

t.test('compileFilter leaves absent fields undefined', async t => {
  const f = compiled({})
  t.same(
    { ids: f.ids, authors: f.authors, kinds: f.kinds, since: f.since, until: f.until, limit: f.limit },
    {
      ids: undefined,
      authors: undefined,
      kinds: undefined,
      since: undefined,
      until: undefined,
      limit: undefined,
    },
  )
  t.same(f.tags, [])
  t.equal(f.never, false)
})

t.test('compileFilter accepts exactly maxValues values', async t => {
  t.notOk(isRejection(compileFilter({ ids: [A, B, C] }, LIMITS)))
  t.notOk(isRejection(compileFilter({ '#t': ['a', 'b', 'c'] }, LIMITS)))
})

t.test('an empty list anywhere makes the filter match nothing', async t => {
  for (const raw of [
    { ids: [] },
    { authors: [] },
    { kinds: [] },
    { '#e': [] },
    { '#t': [] },
    { kinds: [1], '#p': [] },
  ]) {
    t.equal(compiled(raw).never, true, JSON.stringify(raw))
  }
})

t.test('since after until makes the filter match nothing', async t => {
  t.equal(compiled({ since: 11, until: 10 }).never, true)
})

t.test('since equal to until still matches that second', async t => {
  t.equal(compiled({ since: 10, until: 10 }).never, false)
})

const ev: NostrEvent = {
  id: A,
  pubkey: B,
  created_at: 100,
  kind: 1,
  tags: [['e', C], ['t', 'first', 'second'], ['t', 'other'], ['T', 'Upper'], ['d'], ['alt', 'x']],
  content: '',
  sig: '0'.repeat(128),
}

t.test(
  'matchFilter follows NIP-01: AND across fields, OR within a list, inclusive bounds, first tag value',
  async t => {
    const cases: [string, Record<string, unknown>, boolean][] = [
      ['empty filter', {}, true],
      ['id listed', { ids: [B, A] }, true],
      ['id not listed', { ids: [B] }, false],
      ['author listed', { authors: [B] }, true],
      ['author not listed', { authors: [A] }, false],
      ['kind listed', { kinds: [7, 1] }, true],
      ['kind not listed', { kinds: [7] }, false],
      ['since equal to created_at', { since: 100 }, true],
      ['since after created_at', { since: 101 }, false],
      ['until equal to created_at', { until: 100 }, true],
      ['until before created_at', { until: 99 }, false],
      ['tag first value', { '#t': ['first'] }, true],
      ['tag second value is not matched', { '#t': ['second'] }, false],
      ['first value of a later tag', { '#t': ['other'] }, true],
      ['any value of the list', { '#t': ['nope', 'other'] }, true],
      ['hex tag', { '#e': [C] }, true],
      ['tag letters are case-sensitive', { '#t': ['Upper'] }, false],
      ['upper-case tag letter', { '#T': ['Upper'] }, true],
      ['a tag without a value does not match ""', { '#d': [''] }, false],
      ['two tag conditions both hold', { '#t': ['first'], '#e': [C] }, true],
      ['two tag conditions, one fails', { '#t': ['first'], '#e': [A] }, false],
      ['all fields hold', { ids: [A], authors: [B], kinds: [1], since: 100, until: 100, '#e': [C] }, true],
      ['one field of many fails', { ids: [A], authors: [B], kinds: [2] }, false],
      ['empty list', { kinds: [] }, false],
      ['since after until', { since: 101, until: 99 }, false],
    ]
    for (const [name, raw, want] of cases) t.equal(matchFilter(compiled(raw), ev), want, name)
  },
)

t.test('matchFilter ignores limit', async t => {
  t.equal(matchFilter(compiled({ limit: 0 }), ev), true)
})
