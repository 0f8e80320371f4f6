import t, { type Test } from 'tap'
import { bytesToHex } from '@noble/curves/utils.js'
import { getPow } from 'nostr-tools/nip13'
import { generateSecretKey } from 'nostr-tools/pure'
import { ClientError } from '../../client/errors.js'
import { signerFrom } from '../../client/keys.js'
import { jobRequest } from '../../client/market.js'
import { fetchRelayInfo } from '../../client/nip11.js'
import { Pool, refusals, type Published } from '../../client/pool.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor, putAll } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { freeLowPort } from '../helpers/ports.js'
import { startTestRelay } from '../helpers/relay.js'
import { storedIds } from '../helpers/stored.js'
import { startPowFileRelay } from '../helpers/config-file.js'
import { sleep, waitFor } from '../helpers/wait.js'

/** A Pool on `urls` with a fresh key, closed at teardown. */
function pool(t: Test, urls: string[]): Pool {
  const p = new Pool(urls, signerFrom(bytesToHex(generateSecretKey())), { connectMs: 30_000 })
  t.teardown(() => p.close())
  return p
}

/** The bits an event's nonce tag commits to (NIP-13), or undefined without one. */
const committed = (e: NostrEvent) => {
  const nonce = e.tags.find(x => x[0] === 'nonce')
  return nonce ? Number(nonce[2]) : undefined
}

/** A relay with PoW on by these rules and every kind accepted. */
const powRelay = (t: Test, rules: string[]) =>
  startTestRelay(t, { 'policies.open': false, 'policies.kind_whitelist.enabled': false, 'policies.pow.rules': rules })

t.test('each kind is mined to exactly the bits NIP-11 pow_by_kind states for it, not min_pow_difficulty', async t => {
  const { url } = await powRelay(t, ['5000-5999:10', '1:12'])
  const info = await fetchRelayInfo(url)
  const limitation = info.doc['limitation'] as { min_pow_difficulty?: number }
  t.equal(limitation.min_pow_difficulty, 12, 'the relay-wide figure is the strictest rule, more than a job needs')
  const p = pool(t, [url])
  const job = await p.publish(jobRequest({ kind: 5100, input: 'translate this' }))
  t.equal(job.ok, true, refusals(job))
  t.equal(committed(job.event), info.powFor(5100), 'a job request commits to the rule of 5000-5999')
  t.equal(committed(job.event), 10)
  t.ok(getPow(job.event.id) >= 10, 'and its id has that much work')
  const note = await p.publish({ kind: 1, tags: [], content: 'a note' })
  t.equal(note.ok, true, refusals(note))
  t.equal(committed(note.event), info.powFor(1), 'kind 1 commits to its own rule')
  t.equal(committed(note.event), 12)
  const feedback = await p.publish({ kind: 7000, tags: [], content: 'no rule' })
  t.equal(feedback.ok, true)
  t.equal(committed(feedback.event), undefined, 'a kind no rule names is not mined')
  t.same((await storedIds(url)).sort(), [job.event.id, note.event.id, feedback.event.id].sort())
})

t.test(
  'a Pool whose NIP-11 read shows no rule learns the bits from the pow: refusal and its retry is accepted',
  async t => {
    // The relay starts without PoW, the Pool reads (and keeps) that NIP-11, then a reload turns a rule on.
    const { relay, write } = await startPowFileRelay(t, 'enabled = false')
    const p = pool(t, [relay.url])
    t.equal((await p.info(relay.url))?.powFor(5100), 0, 'the Pool read no rule for kind 5100')

    write('rules = ["5000-5999:9"]')
    t.same(relay.reload(), {
      ok: true,
      changes: [
        { key: 'policies.pow.enabled', from: false, to: true },
        { key: 'policies.pow.rules', from: ['5000-5999:10', '0:20', '1:20', '3:20'], to: ['5000-5999:9'] },
      ],
      pending: [],
    })
    const job = await p.publish(jobRequest({ kind: 5100, input: 'after the reload' }))
    t.equal(job.ok, true, refusals(job))
    t.equal(committed(job.event), 9, 'mined to the bits the refusal named')
    t.equal((await p.info(relay.url))?.powFor(5100), 0, 'the bits came from the refusal, not a fresh NIP-11 read')
    t.same(await storedIds(relay.url), [job.event.id], 'only the retry is stored')
  },
)

t.test('with two relays an event goes to both, mined to the stricter rule', async t => {
  const open = await startTestRelay(t)
  const strict = await powRelay(t, ['5000-5999:6'])
  const p = pool(t, [open.url, strict.url])
  const job = await p.publish(jobRequest({ kind: 5200, input: 'both' }))
  t.same(
    job.answers.map(a => [a.url, a.ok]),
    [
      [open.url, true],
      [strict.url, true],
    ],
  )
  t.equal(committed(job.event), 6)
  t.same(await storedIds(open.url), [job.event.id])
  t.same(await storedIds(strict.url), [job.event.id])
})

t.test('a Pool subscription delivers each event once, and query merges both relays newest first', async t => {
  const a = await startTestRelay(t)
  const b = await startTestRelay(t)
  const [ca, cb] = [await connectFor(t, a.url), await connectFor(t, b.url)]
  const s = signer()
  const both = s.sign({ content: 'on both', created_at: now() - 30 })
  const onlyA = s.sign({ content: 'only on a', created_at: now() - 20 })
  const onlyB = s.sign({ content: 'only on b', created_at: now() - 10 })
  await putAll(ca, both, onlyA)
  await putAll(cb, both, onlyB)
  const p = pool(t, [a.url, b.url])
  const got: string[] = []
  let eoses = 0
  p.subscribe([{ authors: [s.pubkey] }], { onevent: e => got.push(e.content), oneose: () => eoses++ })
  await waitFor(() => eoses === 1, 'EOSE from both relays', 90_000)
  t.same(got.sort(), ['on both', 'only on a', 'only on b'], 'stored events, each once')
  const live = s.sign({ content: 'live on both' })
  t.equal((await p.publishSigned(live)).ok, true)
  await waitFor(() => got.length === 4, 'the live event', 90_000)
  await sleep(200) // a window in which the second relay's copy would show
  t.equal(got.filter(c => c === 'live on both').length, 1, 'the live event once though both relays sent it')
  t.equal(eoses, 1, 'one EOSE for the whole Pool')
  const merged = await p.query([{ authors: [s.pubkey] }])
  t.same(
    merged.map(e => e.id),
    [live, onlyB, onlyA, both].map(e => e.id),
    'every event once, newest first',
  )
})

t.test('a relay that refuses a REQ holds back neither the EOSE of a Pool subscription nor a query', async t => {
  const strict = await startTestRelay(t, { 'limits.max_filters': 1 })
  const open = await startTestRelay(t)
  const c = await connectFor(t, open.url)
  const s = signer()
  const stored = s.sign({ content: 'stored on the open relay' })
  await putAll(c, stored)
  const p = pool(t, [strict.url, open.url])
  const filters = [{ authors: [s.pubkey] }, { kinds: [30_000] }] // two filters: over the strict relay's limit
  const closed: string[] = []
  let eosed = false
  p.subscribe(filters, { onevent: () => undefined, oneose: () => (eosed = true), onclosed: r => closed.push(r) })
  await waitFor(() => eosed, 'the Pool EOSE', 90_000)
  t.match(closed, [new RegExp(`^${strict.url}: `)], 'the refusal is told, named by its relay')
  t.same(
    (await p.query(filters)).map(e => e.id),
    [stored.id],
    'the query answers with what the other relay has',
  )
  await t.rejects(pool(t, [strict.url]).query(filters), ClientError, 'with no relay answering, the query fails')
})

t.test('refusals() names each relay that refused, with its message; accepted answers are left out', async t => {
  const open = await startTestRelay(t)
  const picky = await startTestRelay(t, { 'policies.open': false, 'policies.pow.enabled': false })
  const p = pool(t, [open.url, picky.url])
  const r = await p.publish({ kind: 1, tags: [], content: 'a note' })
  t.equal(r.ok, true, 'stored by one relay is a success')
  t.equal(refusals(r), `${picky.url}: blocked: kind 1 is not accepted here`)
  const none: Published = {
    event: r.event,
    ok: false,
    answers: [
      { url: 'ws://a', ok: false, message: 'blocked: no' },
      { url: 'ws://b', ok: false, message: 'error: no answer' },
    ],
  }
  t.equal(refusals(none), 'ws://a: blocked: no; ws://b: error: no answer')
})

t.test('a Pool needs a relay, keeps each URL once, and connect() names a relay it cannot reach', async t => {
  const me = signerFrom(bytesToHex(generateSecretKey()))
  t.throws(() => new Pool([], me), new ClientError('no relay given: pass --relay ws://HOST:PORT'))
  const { url } = await startTestRelay(t)
  t.equal(pool(t, [url, url]).relays.length, 1, 'a repeated URL is one connection')
  const down = `ws://127.0.0.1:${await freeLowPort()}`
  const p = new Pool([url, down], me, { connectMs: 2000 })
  t.teardown(() => p.close())
  await t.rejects(p.connect(), new ClientError(`cannot reach ${down}: ECONNREFUSED`))
})
