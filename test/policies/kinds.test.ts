import t from 'tap'
import { KIND_RULE } from '../../config/fields.js'
import { compileKinds, compileRules, expandKinds, ruleFor } from '../../policies/kinds.js'

t.test('compileKinds matches single kinds and inclusive ranges', async t => {
  const match = compileKinds(['0', '7000', '5000-5999', '30000-30000'])
  const cases: [number, boolean][] = [
    [0, true],
    [1, false],
    [6999, false],
    [7000, true],
    [7001, false],
    [4999, false],
    [5000, true],
    [5500, true],
    [5999, true],
    [6000, false],
    [30000, true],
    [30001, false],
  ]
  for (const [kind, want] of cases) t.equal(match(kind), want, `kind ${kind}`)
})

t.test('compileKinds of an empty list matches nothing', async t => {
  const match = compileKinds([])
  t.equal(match(0), false)
  t.equal(match(5000), false)
})

t.test('compileKinds does not match a kind by its digits', async t => {
  const match = compileKinds(['1'])
  for (const kind of [10, 11, 100, 21]) t.equal(match(kind), false, `kind ${kind}`)
})

t.test('a range written high-low matches nothing', async t => {
  const match = compileKinds(['5999-5000'])
  t.equal(match(5000), false)
  t.equal(match(5500), false)
})

t.test('expandKinds lists every kind named, in order', async t => {
  t.same(expandKinds(['7000', '5000-5002', '0']), [0, 5000, 5001, 5002, 7000])
  t.same(expandKinds([]), [])
  t.same(expandKinds(['65535']), [65535])
  t.equal(expandKinds(['5000-5999']).length, 1000)
})

t.test('expandKinds lists an overlapping kind once', async t => {
  t.same(expandKinds(['5-7', '6', '7-8']), [5, 6, 7, 8])
})

t.test('compileRules keeps the order, value and text of each rule', async t => {
  const rules = compileRules(['5000-5999:10', '1:20', '*:3'])
  t.same(
    rules.map(r => [r.text, r.value]),
    [
      ['5000-5999:10', 10],
      ['1:20', 20],
      ['*:3', 3],
    ],
  )
  t.equal(rules[0]!.matches(5000), true)
  t.equal(rules[0]!.matches(1), false)
  t.equal(rules[1]!.matches(1), true)
  t.equal(rules[2]!.matches(65535), true)
  t.equal(rules[2]!.matches(0), true)
})

t.test('ruleFor returns the first rule that matches', async t => {
  const rules = compileRules(['5100:4', '5000-5999:12', '*:2'])
  t.equal(ruleFor(rules, 5100)?.text, '5100:4')
  t.equal(ruleFor(rules, 5200)?.text, '5000-5999:12')
  t.equal(ruleFor(rules, 1)?.text, '*:2')
})

t.test('ruleFor returns undefined when no rule matches', async t => {
  const rules = compileRules(['5000-5999:10'])
  t.equal(ruleFor(rules, 1), undefined)
  t.equal(ruleFor([], 5000), undefined)
})

t.test('KIND_RULE accepts "KINDS:N" and rejects anything else', async t => {
  for (const ok of ['*:600', '1:20', '5000-5999:10', '65535:0']) t.match(ok, KIND_RULE, ok)
  for (const bad of ['*', '1', ':5', '1:', '1:-1', '*-*:1', '5000-:1', 'a:1', '1:2:3', ' 1:2', '1:1.5'])
    t.notMatch(bad, KIND_RULE, JSON.stringify(bad))
})
