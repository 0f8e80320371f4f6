import t from 'tap'
import { isProtected } from '../../nips/nip70.js'

t.test('isProtected is true for an event carrying the ["-"] tag', async t => {
  t.equal(isProtected({ tags: [['-']] }), true)
  t.equal(isProtected({ tags: [['t', 'x'], ['-']] }), true)
})

t.test('isProtected is false without an exact ["-"] tag', async t => {
  const cases: [string, string[][]][] = [
    ['no tags', []],
    ['"-" with a value', [['-', 'x']]],
    ['"-" as a value', [['t', '-']]],
    ['another one-element tag', [['t']]],
    ['"--"', [['--']]],
  ]
  for (const [name, tags] of cases) t.equal(isProtected({ tags }), false, name)
})
