import t, { type Test } from 'tap'
import { rawClient, type Frame, type RawClient } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { sleep } from '../helpers/wait.js'

const author = signer()

/** A relay with one stored event, and a client that has already read the connect challenge. */
async function setup(t: Test, flags: Record<string, string | number | boolean> = {}) {
  const { url } = await startTestRelay(t, flags)
  const c = await rawClient(url)
  await c.expect(m => m[0] === 'AUTH')
  const seed = author.sign({ content: 'stored before the bad input' })
  t.equal((await c.publish(seed))[2], true, 'seed event stored')
  return { url, c, stored: [seed.id] }
}

/** The store is as it was, and the same connection still gets OK true for a valid event. */
async function stillUsable(t: Test, c: RawClient, url: string, stored: string[]): Promise<void> {
  t.same((await storedIds(url)).sort(), [...stored].sort(), 'stored data unchanged')
  const e = author.sign({ content: `still usable ${Math.random()}` })
  const ok = await c.publish(e)
  t.equal(ok[2], true, 'the same connection publishes a valid event afterwards')
}

const noticeFrame = (m: Frame) => m[0] === 'NOTICE'

/** Sends one raw frame and asserts the NOTICE it gets starts with `invalid: `. */
async function expectNotice(t: Test, c: RawClient, frame: string | unknown[], name: string): Promise<void> {
  c.send(frame)
  const n = await c.expect(noticeFrame)
  t.match(n[1], /^invalid: /, name)
}

/** Sends an EVENT frame and asserts the OK false `invalid: ` it gets for `id`. */
async function expectInvalidOk(
  t: Test,
  c: RawClient,
  frame: unknown[],
  id: string,
  name: string,
  reason = /^invalid: /,
) {
  c.send(frame)
  const ok = await c.ok(id)
  t.equal(ok[2], false, name)
  t.match(ok[3], reason, name)
}

t.test('unparsable JSON gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  for (const frame of ['["EVENT",', 'not json', '', '[1,]', '["REQ","s",{"kinds":[1]}]]'])
    await expectNotice(t, c, frame, JSON.stringify(frame))
  await stillUsable(t, c, url, stored)
})

t.test('a message that is not an array gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  for (const frame of ['{"a":1}', '"EVENT"', '42', 'null', 'true']) await expectNotice(t, c, frame, frame)
  await stillUsable(t, c, url, stored)
})

t.test('an empty array gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  await expectNotice(t, c, '[]', '[]')
  await stillUsable(t, c, url, stored)
})

t.test('an unknown verb gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign()
  for (const frame of [['FOO'], ['event', e], [1, 2], [null]])
    await expectNotice(t, c, frame, JSON.stringify(frame).slice(0, 40))
  await stillUsable(t, c, url, stored)
})

t.test('a verb named after an Object.prototype property gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  for (const verb of ['toString', '__proto__', 'constructor', 'hasOwnProperty'])
    await expectNotice(t, c, [verb, 1], verb)
  await stillUsable(t, c, url, stored)
})

t.test('an EVENT with no event gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  await expectNotice(t, c, ['EVENT'], 'EVENT alone')
  await stillUsable(t, c, url, stored)
})

t.test('an EVENT with two events gets OK false invalid: and stores neither', async t => {
  const { url, c, stored } = await setup(t)
  const a = author.sign({ content: 'a' })
  const b = author.sign({ content: 'b' })
  await expectInvalidOk(t, c, ['EVENT', a, b], a.id, 'EVENT with two events')
  await stillUsable(t, c, url, stored)
})

t.test('a CLOSE without exactly one string id gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  for (const frame of [['CLOSE'], ['CLOSE', 1], ['CLOSE', 'a', 'b']])
    await expectNotice(t, c, frame, JSON.stringify(frame))
  await stillUsable(t, c, url, stored)
})

t.test('a REQ without filters gets CLOSED invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const r = await c.req('no-filters')
  t.equal(r.closed?.[1], 'no-filters')
  t.match(r.closed?.[2], /^invalid: /)
  await stillUsable(t, c, url, stored)
})

t.test('an id field that is not a string gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign()
  for (const [name, id] of [
    ['number', 5],
    ['null', null],
    ['object', {}],
    ['array', [e.id]],
    ['missing', undefined],
  ] as const)
    await expectNotice(t, c, ['EVENT', { ...e, id }], `id ${name}`)
  await expectNotice(t, c, ['EVENT', 'not an object'], 'event is a string')
  await expectNotice(t, c, ['EVENT', [e]], 'event is an array')
  await stillUsable(t, c, url, stored)
})

t.test('every other event field with the wrong type gets OK false invalid: for the id', async t => {
  const { url, c, stored } = await setup(t)
  const fields = ['pubkey', 'sig', 'kind', 'created_at', 'tags', 'content'] as const
  const wrong: Record<(typeof fields)[number], unknown[]> = {
    pubkey: [5, null, {}, [], undefined],
    sig: [5, null, {}, [], undefined],
    kind: ['1', null, {}, [1], undefined, true],
    created_at: ['1700000000', null, {}, [], undefined],
    tags: ['t', null, {}, 5, undefined],
    content: [5, null, {}, [], undefined],
  }
  for (const field of fields) {
    for (const v of wrong[field]) {
      const e = author.sign({ content: `${field} ${JSON.stringify(v)}` })
      await expectInvalidOk(t, c, ['EVENT', { ...e, [field]: v }], e.id, `${field} = ${JSON.stringify(v) ?? 'missing'}`)
    }
  }
  await stillUsable(t, c, url, stored)
})

t.test('an uppercase hex id gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign()
  const upper = e.id.toUpperCase()
  t.not(upper, e.id, 'the id has letters to upper-case')
  await expectInvalidOk(t, c, ['EVENT', { ...e, id: upper }], upper, 'uppercase id')
  await stillUsable(t, c, url, stored)
})

t.test('kind 70000 gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign({ kind: 70000 })
  await expectInvalidOk(t, c, ['EVENT', e], e.id, 'kind 70000')
  await stillUsable(t, c, url, stored)
})

t.test('a fractional created_at gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign({ created_at: 1.5 })
  await expectInvalidOk(t, c, ['EVENT', e], e.id, 'created_at 1.5')
  await stillUsable(t, c, url, stored)
})

t.test('tags that are not arrays of strings get OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const cases: [string, unknown][] = [
    ['a tag with a number', [['t', 1]]],
    ['a tag with null', [['t', null]]],
    ['a tag with an object', [['t', {}]]],
    ['a tag that is a string', ['t']],
    ['a tag that is an object', [{ t: 'x' }]],
  ]
  for (const [name, tags] of cases) {
    const e = author.sign({ content: name })
    await expectInvalidOk(t, c, ['EVENT', { ...e, tags }], e.id, name)
  }
  await stillUsable(t, c, url, stored)
})

t.test('a bad signature gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign({ content: 'signed' })
  const other = author.sign({ content: 'other' })
  await expectInvalidOk(t, c, ['EVENT', { ...e, sig: other.sig }], e.id, "another event's signature")
  const f = author.sign({ content: 'by someone else' })
  await expectInvalidOk(
    t,
    c,
    ['EVENT', { ...f, pubkey: signer().pubkey }],
    f.id,
    'pubkey swapped (id no longer matches)',
  )
  await stillUsable(t, c, url, stored)
})

t.test('an id that does not match the content gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign({ content: 'original' })
  await expectInvalidOk(t, c, ['EVENT', { ...e, content: 'tampered' }], e.id, 'tampered content')
  await stillUsable(t, c, url, stored)
})

t.test('an EVENT over limits.max_message_length with its id first gets OK false invalid: for that id', async t => {
  const { url, c, stored } = await setup(t, { 'limits.max_message_length': 4096 })
  const e = author.sign({ content: 'x'.repeat(10_000) })
  const { id, pubkey, created_at, kind, tags, content, sig } = e
  await expectInvalidOk(t, c, ['EVENT', { id, pubkey, created_at, kind, tags, content, sig }], e.id, 'id first')
  await stillUsable(t, c, url, stored)
})

t.test(
  'an EVENT over limits.max_message_length as nostr-tools serialises it gets OK false invalid: for that id',
  async t => {
    const { url, c, stored } = await setup(t, { 'limits.max_message_length': 4096 })
    // finalizeEvent puts id, pubkey and sig after the content, so the id is near the end of the frame.
    const e = author.sign({ content: 'x'.repeat(10_000) })
    t.ok(JSON.stringify(e).indexOf('"id"') > 10_000, 'the id comes after the 10 KB content')
    c.send(['EVENT', e])
    const m = await c.expect(m => (m[0] === 'OK' && m[1] === e.id) || m[0] === 'NOTICE')
    t.same(m.slice(0, 3), ['OK', e.id, false], 'answered with OK false for the id, not a NOTICE')
    t.match(m[3], /^invalid: /)
    await stillUsable(t, c, url, stored)
  },
)

t.test('a frame over limits.max_message_length that names no event gets NOTICE or CLOSED invalid:', async t => {
  const { url, c, stored } = await setup(t, { 'limits.max_message_length': 4096 })
  c.send(['REQ', 'big', { '#t': Array.from({ length: 1000 }, (_, i) => `value-${i}`) }])
  const m = await c.expect(m => m[0] === 'NOTICE' || (m[0] === 'CLOSED' && m[1] === 'big'))
  t.match(m[m.length - 1], /^invalid: /)
  await stillUsable(t, c, url, stored)
})

t.test('an event with 10,000 tags gets OK false invalid: naming the tag limit', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign({ tags: Array.from({ length: 10_000 }, (_, i) => ['t', `${i}`]) })
  await expectInvalidOk(t, c, ['EVENT', e], e.id, '10,000 tags', /^invalid: .*tags.*limit/)
  await stillUsable(t, c, url, stored)
})

const nested = (depth: number, inner = '') => '['.repeat(depth) + inner + ']'.repeat(depth)

t.test('deeply nested JSON gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  // 60,000 levels fit under max_message_length and reach the parser; 100,000 exceed it.
  await expectNotice(t, c, nested(60_000), '60,000 nested arrays')
  await expectNotice(t, c, nested(100_000), '100,000 nested arrays')
  await expectNotice(t, c, `["EVENT",${nested(50_000)}]`, 'EVENT of nested arrays')
  await stillUsable(t, c, url, stored)
})

t.test('a REQ whose filter values are nested arrays gets CLOSED invalid:', async t => {
  const { url, c, stored } = await setup(t)
  for (const key of ['kinds', 'authors', 'ids', '#t', '#e', 'since', 'limit']) {
    c.send(`["REQ","nested",{"${key}":${nested(10_000, '1')}}]`)
    const m = await c.expect(m => m[0] === 'CLOSED' && m[1] === 'nested')
    t.match(m[2], /^invalid: /, key)
  }
  await stillUsable(t, c, url, stored)
})

t.test('an event whose tags are deeply nested arrays gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign()
  const frame = JSON.stringify(['EVENT', { ...e, tags: [] }]).replace('"tags":[]', `"tags":${nested(10_000, '"t"')}`)
  c.send(frame)
  const ok = await c.ok(e.id)
  t.equal(ok[2], false)
  t.match(ok[3], /^invalid: /)
  await stillUsable(t, c, url, stored)
})

t.test('invalid UTF-8 in a text frame is refused without harming the relay', async t => {
  const { url, c, stored } = await setup(t)
  // ws sends these bytes as a text frame unchecked; RFC 6455 §8.1 lets the relay fail the connection.
  c.ws.send(Buffer.from('["EVENT","\xff\xfe"]', 'latin1'), { binary: false })
  const outcome = await Promise.race([
    c.closed.then(code => ({ code })),
    c.expect(noticeFrame).then(n => ({ notice: n[1] as string })),
  ])
  if ('code' in outcome) {
    t.ok([1006, 1007].includes(outcome.code), `connection failed with ${outcome.code} (invalid frame payload)`)
    const d = await rawClient(url)
    await stillUsable(t, d, url, stored)
  } else {
    t.match(outcome.notice, /^invalid: /)
    await stillUsable(t, c, url, stored)
  }
})

t.test('a binary frame with invalid UTF-8 gets NOTICE invalid:', async t => {
  const { url, c, stored } = await setup(t)
  c.send(Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x5d]), true)
  const n = await c.expect(noticeFrame)
  t.match(n[1], /^invalid: /)
  await stillUsable(t, c, url, stored)
})

t.test('a binary frame with valid JSON gets NOTICE invalid: and is not handled', async t => {
  const { url, c, stored } = await setup(t)
  const e = author.sign({ content: 'sent as binary' })
  c.send(Buffer.from(JSON.stringify(['EVENT', e])), true)
  const n = await c.expect(noticeFrame)
  t.match(n[1], /^invalid: /)
  await sleep(100)
  t.same(
    c.pending().filter(m => m[0] === 'OK'),
    [],
    'no OK for the binary EVENT',
  )
  await stillUsable(t, c, url, stored)
})

t.test('created_at further in the past than created_at_lower_limit gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t, { 'limits.created_at_lower_limit': 3600 })
  const e = author.sign({ created_at: now() - 3700 })
  await expectInvalidOk(t, c, ['EVENT', e], e.id, 'too old')
  const inside = author.sign({ created_at: now() - 3500 })
  t.equal((await c.publish(inside))[2], true, 'an event inside the window is accepted')
  await stillUsable(t, c, url, [...stored, inside.id])
})

t.test('created_at further in the future than created_at_upper_limit gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t, { 'limits.created_at_upper_limit': 60 })
  const e = author.sign({ created_at: now() + 120 })
  await expectInvalidOk(t, c, ['EVENT', e], e.id, 'too far ahead')
  const inside = author.sign({ created_at: now() + 30 })
  t.equal((await c.publish(inside))[2], true, 'an event inside the window is accepted')
  await stillUsable(t, c, url, [...stored, inside.id])
})

t.test('created_at outside the default window gets OK false invalid:', async t => {
  const { url, c, stored } = await setup(t)
  const old = author.sign({ created_at: now() - 94_608_000 - 100 })
  await expectInvalidOk(t, c, ['EVENT', old], old.id, 'over three years old')
  const ahead = author.sign({ created_at: now() + 1000 })
  await expectInvalidOk(t, c, ['EVENT', ahead], ahead.id, 'over 900 s ahead')
  await stillUsable(t, c, url, stored)
})
