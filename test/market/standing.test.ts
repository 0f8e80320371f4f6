// Standing (market/standing.ts), pure: personalized PageRank from the roots over the market's edges. Vectors solved
// by hand, then the properties the market relies on: keys no root reaches hold nothing and change nothing, a key
// cannot raise a region it feeds above what it holds, trust is split rather than multiplied, and the same inputs
// give the same bits.
import t from 'tap'
import fc from 'fast-check'
import { computeStanding, DAMPING, type Edge, type Standing, type StandingInputs } from '../../market/standing.js'

const inputs = (roots: string[], edges: [string, string, number?][], pool: StandingInputs['pool'] = []) => ({
  roots,
  pool,
  poolShare: 0.05,
  edges: edges.map(([from, to, weight]): Edge => [from, to, weight ?? 1]),
})
const standingOf = (s: Standing, key: string) => s.get(key)?.standing ?? 0
/** Each key the walk reached with its standing and weight, in order. */
const entries = (s: Standing) => s.keys.map(k => [k, s.get(k)])
const near = (a: number, b: number) => Math.abs(a - b) < 1e-12

t.test('a lone root holds all the standing, at full weight', async t => {
  const s = computeStanding(inputs(['r'], []))
  t.same(entries(s), [['r', { standing: 1, weight: 1 }]])
})

t.test('a chain root -> customer -> provider holds 4/7, 2/7 and 1/7 (the provider jumps back to the root)', async t => {
  const s = computeStanding(
    inputs(
      ['r'],
      [
        ['r', 'c'],
        ['c', 'p'],
      ],
    ),
  )
  t.ok(near(standingOf(s, 'r'), 4 / 7), `root ${standingOf(s, 'r')}`)
  t.ok(near(standingOf(s, 'c'), 2 / 7), `customer ${standingOf(s, 'c')}`)
  t.ok(near(standingOf(s, 'p'), 1 / 7), `provider ${standingOf(s, 'p')}`)
  t.same([...s.weight], [1, 1, 1], 'each at full weight')
})

t.test('keys no root reaches are absent, and their edges change no bit of anyone else', async t => {
  const honest: [string, string, number?][] = [
    ['r', 'a'],
    ['a', 'b', 3],
    ['b', 'r'],
  ]
  const sybils: [string, string, number?][] = [
    ['s1', 's2'],
    ['s2', 's1'],
    ['s1', 'b', 5],
    ['s3', 'a'],
  ]
  const without = computeStanding(inputs(['r'], honest))
  const withSybils = computeStanding(inputs(['r'], [...sybils.slice(0, 2), ...honest, ...sybils.slice(2)]))
  t.same([...withSybils.keys].sort(), ['a', 'b', 'r'], 'no sybil holds standing')
  for (const k of without.keys) t.equal(withSybils.get(k)!.standing, without.get(k)!.standing, `${k}: the same bits`)
})

t.test('edges between the same keys add up, and self-edges count for nothing', async t => {
  const twice = computeStanding(
    inputs(
      ['r'],
      [
        ['r', 'a'],
        ['r', 'b'],
        ['r', 'a'],
        ['a', 'a', 9],
      ],
    ),
  )
  const once = computeStanding(
    inputs(
      ['r'],
      [
        ['r', 'a', 2],
        ['r', 'b'],
      ],
    ),
  )
  t.same(twice.keys, once.keys, 'the same keys')
  for (const k of once.keys) t.ok(near(standingOf(twice, k), standingOf(once, k)), `${k}: the same standing`)
  t.ok(near(standingOf(once, 'a'), 2 * standingOf(once, 'b')), 'a gets twice what b gets')
})

t.test('a root carries 100 keys at full weight; more share its trust', async t => {
  const trusted = (n: number) => Array.from({ length: n }, (_, i): [string, string] => ['r', `k${i}`])
  const hundred = computeStanding(inputs(['r'], trusted(100)))
  t.ok(
    [...hundred.weight].every(w => w === 1),
    'each of 100 trusted keys has weight 1',
  )
  const many = computeStanding(inputs(['r'], trusted(300)))
  const weights = many.keys.filter(k => k !== 'r').map(k => many.get(k)!.weight)
  t.ok(
    weights.every(w => w < 1 && near(w, weights[0]!)),
    `each of 300 has the same weight below 1 (${weights[0]})`,
  )
  // A sole root trusting n dangling keys holds 2/3; each key (1/3)/n, against a reference of 1/400.
  t.ok(near(weights[0]!, 400 / 900), 'weight (1/900) / (1/400)')
})

t.test(
  'the keys that paid the operator share the pool by what they paid; without a pool the roots share all',
  async t => {
    const pool = [
      { key: 'u1', paid: 21 },
      { key: 'u2', paid: 42 },
    ]
    const s = computeStanding({ ...inputs(['r'], []), pool, poolShare: 0.01 })
    t.ok(near(standingOf(s, 'u2'), 2 * standingOf(s, 'u1')), 'twice the sats, twice the standing')
    t.ok(near(standingOf(s, 'u1') + standingOf(s, 'u2'), 0.01), 'the pool holds its 1 %')
    const many = Array.from({ length: 20 }, (_, i) => ({ key: `u${i}`, paid: 21 }))
    const w = computeStanding({ ...inputs(['r'], []), pool: many, poolShare: 0.01 }).get('u0')!.weight
    t.ok(w > 0.1 && w < 0.3, `one of 20 has a little weight (${w})`)
    t.same(computeStanding(inputs(['r', 'q'], [], [{ key: 'u', paid: 0 }])).keys, ['r', 'q'])
  },
)

t.test('the same inputs give the same bits', async t => {
  const edges: [string, string, number?][] = Array.from({ length: 200 }, (_, i) => [
    `k${i % 17}`,
    `k${(i * 7) % 23}`,
    1 + (i % 3),
  ])
  const a = computeStanding(inputs(['k0', 'k5'], edges))
  const b = computeStanding(inputs(['k0', 'k5'], edges))
  t.same(entries(a), entries(b))
  t.same([...a.standing], [...b.standing], 'to the bit')
})

// A random market: honest keys h0..h9 (h0 and h1 roots) with random edges, an attacker `a` that honest keys
// trust, and sybils s0..s9 with any edges among themselves and to anyone, fed only by `a`.
const graph = fc.record({
  honest: fc.array(fc.tuple(fc.nat(9), fc.nat(9), fc.integer({ min: 1, max: 5 })), { maxLength: 40 }),
  intoA: fc.array(fc.nat(9), { minLength: 1, maxLength: 5 }),
  aOut: fc.array(fc.tuple(fc.nat(9), fc.boolean()), { maxLength: 8 }),
  sybil: fc.array(fc.tuple(fc.nat(9), fc.nat(19), fc.integer({ min: 1, max: 50 })), { maxLength: 60 }),
})

t.test('a region fed by one key holds at most that key × DAMPING / (1 − DAMPING), whatever it signs', async t => {
  fc.assert(
    fc.property(graph, g => {
      const edges: Edge[] = [
        ...g.honest.map(([f, to, weight]): Edge => [`h${f}`, `h${to}`, weight]),
        ...g.intoA.map((f): Edge => [`h${f}`, 'a', 1]),
        ...g.aOut.map(([i, sybil]): Edge => ['a', sybil ? `s${i}` : `h${i}`, 1]),
        // Sybil edges go to sybils (0-9) or to honest keys (10-19).
        ...g.sybil.map(([f, to, weight]): Edge => [`s${f}`, to < 10 ? `s${to}` : `h${to - 10}`, weight]),
      ]
      const s = computeStanding({ roots: ['h0', 'h1'], pool: [], poolShare: 0, edges })
      const region = s.keys.filter(k => k.startsWith('s')).reduce((sum, k) => sum + standingOf(s, k), 0)
      const total = [...s.standing].reduce((sum, v) => sum + v, 0)
      return region <= (standingOf(s, 'a') * DAMPING) / (1 - DAMPING) + 1e-9 && Math.abs(total - 1) < 1e-9
    }),
    { numRuns: 300 },
  )
  t.pass('held for 300 random markets')
})
