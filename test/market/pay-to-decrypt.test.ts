// Pay-to-decrypt results over WebSocket (DESIGN §7.6): the provider publishes its result encrypted under a key K
// and sells K as the preimage of its invoice (21117, kept by the relay while the job waits); whoever publishes K
// lets the relay open the result: the committed plaintext delivers the job, anything else flags the provider.
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { createHash, randomBytes } from 'node:crypto'
import { v2 as nip44 } from 'nostr-tools/nip44'
import type { NostrEvent } from '../../nips/nip01.js'
import { databaseFile } from '../../relay/app.js'
import { connectFor, queryIds } from '../helpers/client.js'
import { startTestRelay } from '../helpers/relay.js'
import { signer, type Signer } from '../helpers/events.js'
import {
  accepted,
  feedback,
  jobRow,
  outputWhen,
  refused,
  request,
  result,
  review,
  roots,
  startMarket,
  tag,
} from '../helpers/market.js'
import { makeInvoice, sha256hex } from '../helpers/zaps.js'

const MSATS = 21_000

/** A 21117 for `job`: `plaintext` committed, `sealed` encrypted under a fresh K, K's hash in the invoice. */
function sealedResult(
  provider: Signer,
  job: NostrEvent,
  o: { plaintext?: string; sealed?: string; paymentHash?: string } = {},
) {
  const key = randomBytes(32)
  const keyHash = createHash('sha256').update(key).digest('hex')
  const plaintext = o.plaintext ?? 'the summary, in full'
  const bolt11 = makeInvoice({
    msats: MSATS,
    paymentHash: o.paymentHash ?? keyHash,
    descriptionHash: sha256hex('pay-to-decrypt'),
  })
  const event = provider.sign({
    kind: 21117,
    tags: [
      ['e', job.id],
      ['p', job.pubkey],
      ['hash', sha256hex(plaintext)],
      ['key_hash', keyHash],
      ['preview', 'the summary…'],
      ['amount', String(MSATS), bolt11],
    ],
    content: nip44.encrypt(o.sealed ?? plaintext, key),
  })
  return { event, key: key.toString('hex') }
}

const reveal = (who: Signer, job: NostrEvent, key: string) => feedback(who, job, 'success', [['preimage', key]])

/** A market, and a customer with standing (a trust root) whose paid jobs count, with a request posted. */
async function market(t: Test) {
  const [customer, provider] = [signer(), signer()]
  const m = await startMarket(t, roots(customer))
  const job = request(customer, { bid: MSATS })
  await accepted(t, m.c, job, 'the request')
  return { ...m, customer, provider, job }
}

const frauds = (dataDir: string) => {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    return db.prepare('SELECT provider, sealed_id, reveal_id, why FROM market_frauds').all()
  } finally {
    db.close()
  }
}

t.test('an honest provider: the customer pays, publishes the key, the job is delivered and paid', async t => {
  const m = await market(t)
  const { c, customer, provider, job } = m
  const sealed = sealedResult(provider, job)
  await accepted(t, c, sealed.event, 'the sealed result')
  t.strictSame(await queryIds(c, { ids: [sealed.event.id] }), [sealed.event.id], 'kept, though ephemeral')
  t.match(jobRow(m.dataDir, job.id), { state: 'open' }, 'a sealed result alone delivers nothing')

  await accepted(t, c, reveal(customer, job, randomBytes(32).toString('hex')), 'a wrong key')
  t.match(jobRow(m.dataDir, job.id), { state: 'open' }, 'a wrong key opens nothing and proves nothing')
  t.strictSame(frauds(m.dataDir), [])

  // Paying the invoice gives the customer K; it opens the result.
  t.equal(nip44.decrypt(sealed.event.content, Buffer.from(sealed.key, 'hex')), 'the summary, in full')
  const paid = reveal(customer, job, sealed.key)
  await accepted(t, c, paid, 'the key, published by the customer')
  t.match(jobRow(m.dataDir, job.id), {
    state: 'paid',
    provider: provider.pubkey,
    result_id: sealed.event.id,
    paid_msats: MSATS,
  })
  const ledger = await outputWhen(c, m.relay.pubkey, 31118, job.id, e => tag(e, 'state') === 'paid', 'ledger')
  t.strictSame(ledger.tags.find(x => x[0] === 'payment')?.slice(0, 4), ['payment', 'preimage', paid.id, '21000'])
  await accepted(t, c, review(customer, job, provider.pubkey, 5), "the customer's review of the paid job")
  await refused(
    t,
    c,
    result(signer(), job),
    'restricted',
    /already delivered/,
    'another result once the sealed one delivered',
  )
  await refused(
    t,
    c,
    provider.sign({ kind: 5, tags: [['e', sealed.event.id]] }),
    'restricted',
    /stays as the record/,
    'deleting the sealed result that delivered the job',
  )
})

t.test('a key published in a review delivers the job, and the review counts', async t => {
  const m = await market(t)
  const { c, customer, provider, job } = m
  const sealed = sealedResult(provider, job)
  await accepted(t, c, sealed.event, 'the sealed result')
  await refused(
    t,
    c,
    review(customer, job, provider.pubkey, 4),
    'restricted',
    /only a delivered job can be reviewed/,
    'a review without the key',
  )
  const r = customer.sign({
    kind: 31117,
    tags: [...review(customer, job, provider.pubkey, 4).tags, ['preimage', sealed.key]],
  })
  await accepted(t, c, r, 'the review publishing the key')
  t.match(jobRow(m.dataDir, job.id), { state: 'paid', provider: provider.pubkey })
  const assertion = await outputWhen(
    c,
    m.relay.pubkey,
    30382,
    provider.pubkey,
    e => tag(e, 'review_cnt') === '1',
    "the provider's assertion",
  )
  t.equal(tag(assertion, 'avg_rating'), '4.00')
})

t.test('the provider publishing its own key delivers the job, but proves no payment', async t => {
  const m = await market(t)
  const { c, provider, job } = m
  const sealed = sealedResult(provider, job)
  await accepted(t, c, sealed.event, 'the sealed result')
  await accepted(t, c, reveal(provider, job, sealed.key), 'the key, from the provider')
  t.match(jobRow(m.dataDir, job.id), { state: 'delivered', provider: provider.pubkey, paid_msats: 0 })
})

t.test('a ciphertext that does not match its committed hash flags the provider at once', async t => {
  const m = await market(t)
  const { c, customer, provider, job } = m
  const sealed = sealedResult(provider, job, { sealed: 'something else entirely' })
  await accepted(t, c, sealed.event, 'the dishonest sealed result')
  const paid = reveal(customer, job, sealed.key)
  await accepted(t, c, paid, 'the key the customer paid for')
  t.strictSame(frauds(m.dataDir), [
    { provider: provider.pubkey, sealed_id: sealed.event.id, reveal_id: paid.id, why: 'mismatch' },
  ])
  t.match(jobRow(m.dataDir, job.id), { state: 'open' }, 'the job is not delivered')
  const assertion = await outputWhen(
    c,
    m.relay.pubkey,
    30382,
    provider.pubkey,
    e => tag(e, 'flagged') === '1',
    'the flag',
  )
  t.equal(tag(assertion, 'frauds'), '1')
  t.equal(tag(assertion, 'rank'), '0')
  const other = request(signer(), { bid: MSATS })
  await accepted(t, c, other, 'another job')
  await refused(t, c, result(provider, other), 'blocked', /proven fraud/, "the flagged provider's next result")
  await refused(
    t,
    c,
    provider.sign({ kind: 5, tags: [['e', sealed.event.id]] }),
    'restricted',
    /evidence of a fraud/,
    'deleting the evidence',
  )
})

t.test('sealed results the relay refuses, and nothing of them is stored', async t => {
  const m = await market(t)
  const { c, customer, provider, job } = m
  const cases: [string, NostrEvent, 'invalid' | 'restricted', RegExp][] = [
    [
      'an invoice whose payment hash is not key_hash',
      sealedResult(provider, job, { paymentHash: sha256hex('another preimage') }).event,
      'invalid',
      /^invalid: pay-to-decrypt: the invoice's payment hash is not key_hash$/,
    ],
    ['for an unknown job', sealedResult(provider, request(customer)).event, 'restricted', /unknown job/],
    ["from the job's customer", sealedResult(customer, job).event, 'restricted', /is not open to this provider/],
  ]
  for (const [what, e, prefix, reason] of cases) {
    await refused(t, c, e, prefix, reason, `a sealed result ${what}`)
    t.strictSame(await queryIds(c, { ids: [e.id] }), [], `${what}: not stored`)
  }
  await accepted(t, c, result(provider, job), 'a plain result delivers the job')
  await refused(
    t,
    c,
    sealedResult(signer(), job).event,
    'restricted',
    /is delivered: a sealed result waits only for an open job/,
    'a sealed result for a delivered job',
  )
})

t.test('with the market off a 21117 is an ordinary ephemeral event: delivered live, not stored', async t => {
  const r = await startTestRelay(t, { 'market.enabled': false })
  const c = await connectFor(t, r.url)
  const [customer, provider] = [signer(), signer()]
  const job = request(customer, { bid: MSATS })
  const listener = await connectFor(t, r.url)
  await listener.req('live', { kinds: [21117] })
  const sealed = sealedResult(provider, job)
  await accepted(t, c, sealed.event, 'the sealed result')
  const live = await listener.expect(f => f[0] === 'EVENT')
  t.equal((live[2] as NostrEvent).id, sealed.event.id, 'delivered to a subscriber')
  t.strictSame(await queryIds(c, { ids: [sealed.event.id] }), [], 'not stored')
})
