import t from 'tap'
import {
  addressOf,
  canonicalJson,
  idOfCanonical,
  checkEventShape,
  checkId,
  compareNewestFirst,
  computeId,
  isRejection,
  reject,
  wins,
} from '../../nips/nip01.js'
import { signer } from '../helpers/events.js'

const good = signer().sign({ tags: [['t', 'x']], content: 'hello' })

t.test('checkEventShape accepts a signed event', async t => {
  t.equal(checkEventShape(good), undefined)
})

t.test('checkEventShape refuses each malformed field with invalid:', async t => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['uppercase id', { id: good.id.toUpperCase() }, /id must be 64 lowercase hex/],
    ['short id', { id: good.id.slice(2) }, /id must be 64/],
    ['numeric id', { id: 5 }, /id must be 64/],
    ['short pubkey', { pubkey: 'ab' }, /pubkey must be 64/],
    ['short sig', { sig: good.sig.slice(1) }, /sig must be 128/],
    ['kind too big', { kind: 65536 }, /kind must be an integer between 0 and 65535/],
    ['negative kind', { kind: -1 }, /kind must be/],
    ['fractional kind', { kind: 1.5 }, /kind must be/],
    ['string kind', { kind: '1' }, /kind must be/],
    ['fractional created_at', { created_at: 1.5 }, /created_at must be a non-negative integer/],
    ['string created_at', { created_at: '1700000000' }, /created_at must be/],
    ['tags not array', { tags: {} }, /tags must be an array/],
    ['tag not array', { tags: ['t'] }, /each tag must be an array of strings/],
    ['tag with number', { tags: [['t', 1]] }, /each tag must be an array of strings/],
    ['tag with null', { tags: [['t', null]] }, /each tag must be/],
    ['content not string', { content: 1 }, /content must be a string/],
  ]
  for (const [name, patch, re] of cases) {
    const r = checkEventShape({ ...good, ...patch })
    t.equal(r?.prefix, 'invalid', name)
    t.match(r?.reason, re, name)
  }
  t.equal(checkEventShape([good])?.prefix, 'invalid', 'an array is not an event')
  t.equal(checkEventShape(null)?.prefix, 'invalid', 'null is not an event')
})

t.test('checkId recomputes the sha256 of the serialisation', async t => {
  t.equal(checkId(good), undefined)
  t.equal(computeId(good), good.id)
  t.equal(checkId({ ...good, content: 'tampered' })?.prefix, 'invalid')
})

t.test('canonicalJson keeps the seven fields in order and drops unknown ones', async t => {
  const json = canonicalJson({ ...good, extra: 1 } as typeof good)
  t.same(Object.keys(JSON.parse(json)), ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'])
})

t.test('idOfCanonical reads the id from canonical JSON without parsing it', async t => {
  t.equal(idOfCanonical(canonicalJson({ ...good, extra: 1 } as typeof good)), good.id)
})

t.test('ordering is newest first with the lowest id on ties', async t => {
  const a = { created_at: 10, id: 'b' }
  const b = { created_at: 10, id: 'a' }
  const c = { created_at: 11, id: 'z' }
  t.same([a, b, c].sort(compareNewestFirst), [c, b, a])
  t.ok(wins(b, a), 'same second: lower id wins')
  t.notOk(wins(a, b))
  t.ok(wins(c, b), 'newer wins')
})

t.test('addressOf gives the replacement key by kind class', async t => {
  t.equal(addressOf({ kind: 0, tags: [['d', 'x']] }), '', 'replaceable ignores d')
  t.equal(addressOf({ kind: 30000, tags: [['d', 'x']] }), 'x')
  t.equal(addressOf({ kind: 30000, tags: [] }), '', 'missing d is ""')
  t.equal(addressOf({ kind: 1, tags: [] }), undefined)
})

t.test('isRejection tells rejections from values', async t => {
  t.ok(isRejection(reject('invalid', 'x')))
  t.notOk(isRejection({ tags: [] }))
})
