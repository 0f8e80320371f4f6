import t from 'tap'
import { expiresAt, isExpired } from '../../nips/nip40.js'

t.test('expiresAt reads the expiration tag as whole seconds', async t => {
  t.equal(
    expiresAt({
      tags: [
        ['t', 'x'],
        ['expiration', '1700000000'],
      ],
    }),
    1700000000,
  )
  t.equal(expiresAt({ tags: [['expiration', '0']] }), 0)
})

t.test('expiresAt is undefined without an expiration tag', async t => {
  t.equal(expiresAt({ tags: [] }), undefined)
  t.equal(expiresAt({ tags: [['t', '1700000000']] }), undefined)
})

t.test('expiresAt is undefined for an unreadable timestamp', async t => {
  for (const v of ['', 'soon', '-5', '1.5', '1e9', ' 17', '0x10', '99999999999999999999']) {
    t.equal(expiresAt({ tags: [['expiration', v]] }), undefined, JSON.stringify(v))
  }
})

t.test('expiresAt skips an expiration tag without a value and uses the next one', async t => {
  t.equal(expiresAt({ tags: [['expiration'], ['expiration', '42']] }), 42)
})

t.test('expiresAt uses the first expiration tag that has a value', async t => {
  t.equal(
    expiresAt({
      tags: [
        ['expiration', '10'],
        ['expiration', '20'],
      ],
    }),
    10,
  )
  t.equal(
    expiresAt({
      tags: [
        ['expiration', 'bad'],
        ['expiration', '20'],
      ],
    }),
    undefined,
  )
})

t.test('isExpired is true from the expiration second on', async t => {
  const e = { tags: [['expiration', '100']] }
  t.equal(isExpired(e, 99), false)
  t.equal(isExpired(e, 100), true)
  t.equal(isExpired(e, 101), true)
})

t.test('isExpired is false without a readable expiration', async t => {
  t.equal(isExpired({ tags: [] }, 2 ** 40), false)
  t.equal(isExpired({ tags: [['expiration', 'never']] }, 2 ** 40), false)
})
