import t from 'tap'
import { makeBuckets } from '../../policies/token-bucket.js'

const T0 = 1_700_000_000_000

t.test('a new key starts with a full bucket of perMinute tokens', async t => {
  const b = makeBuckets(6)
  for (let i = 0; i < 6; i++) t.equal(b.take('k', T0), true, `token ${i + 1}`)
  t.equal(b.take('k', T0), false)
})

t.test('tokens refill continuously at perMinute per 60 s', async t => {
  const b = makeBuckets(6)
  for (let i = 0; i < 6; i++) b.take('k', T0)
  t.equal(b.take('k', T0 + 9_000), false, '0.9 token after 9 s')
  t.equal(b.take('k', T0 + 10_500), true, 'one token after 10.5 s')
  t.equal(b.take('k', T0 + 10_500), false, 'only one')
})

t.test('a refused take does not reset the refill', async t => {
  const b = makeBuckets(6)
  for (let i = 0; i < 6; i++) b.take('k', T0)
  t.equal(b.take('k', T0 + 5_000), false)
  t.equal(b.take('k', T0 + 10_500), true)
})

t.test('a bucket never holds more than perMinute tokens', async t => {
  const b = makeBuckets(3)
  b.take('k', T0)
  for (let i = 0; i < 3; i++) t.equal(b.take('k', T0 + 3_600_000), true)
  t.equal(b.take('k', T0 + 3_600_000), false)
})

t.test('keys have independent buckets', async t => {
  const b = makeBuckets(1)
  t.equal(b.take('a', T0), true)
  t.equal(b.take('a', T0), false)
  t.equal(b.take('b', T0), true)
})

t.test('separate bucket sets do not share keys', async t => {
  const one = makeBuckets(1)
  const two = makeBuckets(1)
  one.take('k', T0)
  t.equal(two.take('k', T0), true)
})

t.test('a sweep after a minute drops idle full buckets and keeps recently used ones', async t => {
  const b = makeBuckets(6)
  b.take('idle', T0) // first take: sweeps (nothing yet) and starts the clock
  for (let i = 0; i < 6; i++) b.take('busy', T0 + 50_000)
  const deletes = t.capture(Map.prototype, 'delete', Map.prototype.delete)
  b.take('other', T0 + 60_001) // more than a minute since the last sweep
  deletes.restore()
  const keys = deletes.args().map(a => a[0])
  t.ok(keys.includes('idle'), 'the idle, refilled bucket is dropped')
  t.notOk(keys.includes('busy'), 'the drained bucket is kept')
  // The kept bucket still remembers it was drained ~10 s ago: one token, not six.
  t.equal(b.take('busy', T0 + 60_001), true)
  t.equal(b.take('busy', T0 + 60_001), false)
})

t.test('no sweep runs within a minute of the last one', async t => {
  const b = makeBuckets(6)
  b.take('idle', T0)
  const deletes = t.capture(Map.prototype, 'delete', Map.prototype.delete)
  b.take('other', T0 + 59_000)
  deletes.restore()
  t.notOk(
    deletes.args().some(a => a[0] === 'idle'),
    'nothing dropped',
  )
})

t.test('a swept key comes back with a full bucket', async t => {
  const b = makeBuckets(2)
  b.take('k', T0)
  b.take('k', T0)
  t.equal(b.take('k', T0), false)
  b.take('other', T0 + 120_000)
  t.equal(b.take('k', T0 + 120_000), true)
  t.equal(b.take('k', T0 + 120_000), true)
  t.equal(b.take('k', T0 + 120_000), false)
})
