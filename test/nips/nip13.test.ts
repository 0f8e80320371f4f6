import t from 'tap'
import { getPow, minePow } from 'nostr-tools/nip13'
import { committedTarget, leadingZeroBits, provenWork } from '../../nips/nip13.js'
import { signer } from '../helpers/events.js'

const id = (prefix: string) => prefix + 'f'.repeat(64 - prefix.length)

t.test('leadingZeroBits counts the zero bits before the first one bit', async t => {
  const cases: [string, string, number][] = [
    ['all zeros', '0'.repeat(64), 256],
    ['all f', 'f'.repeat(64), 0],
    ['08...', id('08'), 4],
    ['00f...', id('00f'), 8],
    ['01...', id('01'), 7],
    ['02...', id('02'), 6],
    ['04...', id('04'), 5],
    ['0f...', id('0f'), 4],
    ['1...', id('1'), 3],
    ['3...', id('3'), 2],
    ['7...', id('7'), 1],
    ['8...', id('8'), 0],
    ['000000001...', id('000000001'), 35],
    ['one bit at the very end', '0'.repeat(63) + '1', 255],
  ]
  for (const [name, hex, bits] of cases) t.equal(leadingZeroBits(hex), bits, name)
})

t.test('leadingZeroBits agrees with nostr-tools getPow', async t => {
  for (const hex of ['0'.repeat(64), id('0007'), id('00f'), id('1'), id('f'), id('0000c')])
    t.equal(leadingZeroBits(hex), getPow(hex), hex.slice(0, 8))
})

t.test('committedTarget reads the third element of the nonce tag', async t => {
  const cases: [string, string[][], number | undefined][] = [
    ['no tags', [], undefined],
    ['no nonce tag', [['t', 'pow']], undefined],
    ['nonce without a target', [['nonce', '42']], undefined],
    ['non-numeric target', [['nonce', '42', 'abc']], undefined],
    ['empty target', [['nonce', '42', '']], undefined],
    ['negative target', [['nonce', '42', '-1']], undefined],
    ['fractional target', [['nonce', '42', '1.5']], undefined],
    ['target with a space', [['nonce', '42', ' 20']], undefined],
    ['target of four digits', [['nonce', '42', '1000']], undefined],
    ['target 0', [['nonce', '42', '0']], 0],
    ['target 20', [['nonce', '42', '20']], 20],
    ['target 256', [['nonce', '42', '256']], 256],
    [
      'nonce among other tags',
      [
        ['p', 'x'],
        ['nonce', '1', '12'],
      ],
      12,
    ],
    [
      'the first nonce tag wins',
      [
        ['nonce', '1', '8'],
        ['nonce', '2', '30'],
      ],
      8,
    ],
  ]
  for (const [name, tags, want] of cases) t.equal(committedTarget({ tags }), want, name)
})

t.test('provenWork is the leading zero bits when the committed target is higher', async t => {
  t.equal(provenWork({ id: id('000'), tags: [['nonce', '1', '20']] }), 12)
})

t.test('provenWork is capped by the committed target', async t => {
  t.equal(provenWork({ id: id('000'), tags: [['nonce', '1', '8']] }), 8)
  t.equal(provenWork({ id: '0'.repeat(64), tags: [['nonce', '1', '10']] }), 10)
})

t.test('provenWork is 0 without a nonce tag, however many zero bits the id has', async t => {
  t.equal(provenWork({ id: '0'.repeat(64), tags: [] }), 0)
  t.equal(provenWork({ id: '0'.repeat(64), tags: [['t', 'nonce']] }), 0)
})

t.test('provenWork is 0 when the nonce tag commits to no readable target', async t => {
  t.equal(provenWork({ id: '0'.repeat(64), tags: [['nonce', '1']] }), 0)
  t.equal(provenWork({ id: '0'.repeat(64), tags: [['nonce', '1', 'lots']] }), 0)
})

t.test('an event mined with nostr-tools minePow proves the difficulty it was mined for', async t => {
  const s = signer()
  const mined = minePow({ kind: 5100, created_at: 1_700_000_000, tags: [], content: 'job', pubkey: s.pubkey }, 8)
  t.same(mined.tags.find(t => t[0] === 'nonce')?.[2], '8')
  t.ok(leadingZeroBits(mined.id) >= 8)
  t.equal(committedTarget(mined), 8)
  t.equal(provenWork(mined), 8)
})
