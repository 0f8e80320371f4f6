import t from 'tap'
import { deletedAddresses, deletedIds } from '../../nips/nip09.js'

const ME = 'a'.repeat(64)
const OTHER = 'b'.repeat(64)
const ID1 = '1'.repeat(64)
const ID2 = '2'.repeat(64)
const HEXID = 'ab'.repeat(32)

t.test('deletedIds returns the e tag values that are 64-char lowercase hex, in order', async t => {
  const tags = [
    ['e', ID1],
    ['p', ID2],
    ['e', ID2, 'wss://relay.example'],
    ['k', '1'],
  ]
  t.same(deletedIds({ tags }), [ID1, ID2])
})

t.test('deletedIds ignores e tags whose value is not an exact lowercase hex id', async t => {
  const tags = [['e'], ['e', ''], ['e', HEXID.toUpperCase()], ['e', HEXID.slice(1)], ['e', HEXID + 'a'], ['E', HEXID]]
  t.same(deletedIds({ tags }), [])
})

t.test('deletedAddresses takes the d part of an addressable kind, colons included', async t => {
  const tags = [['a', `30023:${ME}:my:post`]]
  t.same(deletedAddresses({ pubkey: ME, tags }), [{ kind: 30023, pubkey: ME, d: 'my:post' }])
})

t.test('deletedAddresses reads an addressable address with an empty d as d ""', async t => {
  t.same(deletedAddresses({ pubkey: ME, tags: [['a', `30000:${ME}:`]] }), [{ kind: 30000, pubkey: ME, d: '' }])
})

t.test('deletedAddresses gives replaceable kinds the address "" whatever follows', async t => {
  const tags = [
    ['a', `0:${ME}:`],
    ['a', `3:${ME}:ignored`],
    ['a', `10002:${ME}`],
  ]
  t.same(deletedAddresses({ pubkey: ME, tags }), [
    { kind: 0, pubkey: ME, d: '' },
    { kind: 3, pubkey: ME, d: '' },
    { kind: 10002, pubkey: ME, d: '' },
  ])
})

t.test('deletedAddresses ignores addresses of another pubkey', async t => {
  t.same(deletedAddresses({ pubkey: ME, tags: [['a', `30023:${OTHER}:x`]] }), [])
})

t.test('deletedAddresses ignores regular and ephemeral kinds', async t => {
  const tags = [
    ['a', `1:${ME}:`],
    ['a', `20000:${ME}:`],
    ['a', `40000:${ME}:x`],
  ]
  t.same(deletedAddresses({ pubkey: ME, tags }), [])
})

t.test('deletedAddresses ignores a tags without a value or with an unreadable kind', async t => {
  const tags = [['a'], ['a', ''], ['a', `x:${ME}:d`], ['a', `1.5:${ME}:d`], ['A', `30023:${ME}:d`]]
  t.same(deletedAddresses({ pubkey: ME, tags }), [])
})

t.test('deletedAddresses ignores a tags whose kind is not a plain decimal number', async t => {
  // "" would read as kind 0 (the profile), "0x3" and "3e0" as kind 3 (the contact list).
  for (const kind of ['', '0x3', '3e0', ' 3', '+3']) {
    t.same(deletedAddresses({ pubkey: ME, tags: [['a', `${kind}:${ME}:`]] }), [], JSON.stringify(kind))
  }
})
