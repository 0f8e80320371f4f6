// Standing over WebSocket (DESIGN §7.7): every reputation input counts by the standing of the key that produced it,
// so keys no root reaches add nothing whatever they sign (trust, attestations, reviews, payments through the
// provider's own LNURL server and mint, reports), while one customer a root trusts, paying one job, counts; an
// honest provider paid by customers with standing scores what the seed's formula gives; and nobody deals with
// itself: a workflow's customer is its steps' customer for every rule.
import t, { type Test } from 'tap'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import type { NostrEvent } from '../../nips/nip01.js'
import type { RawClient } from '../helpers/client.js'
import { queryIds } from '../helpers/client.js'
import { issueProofs, makeMintKeys, p2pkSecret, startMintServer } from '../helpers/cashu.js'
import { fastSigner, signer, type Author } from '../helpers/events.js'
import { startLnurlServer } from '../helpers/lnurl.js'
import {
  accepted,
  attestation,
  feedback,
  handler,
  jobRow,
  outputWhen,
  refused,
  report,
  request,
  result,
  review,
  roots,
  startMarket,
  tag,
  trust,
  wallet,
  type Market,
} from '../helpers/market.js'
import { sleep } from '../helpers/wait.js'

/** Publishes many events at once (a window of 200 in flight); every one must be accepted. */
async function flood(t: Test, c: RawClient, events: NostrEvent[], what: string): Promise<void> {
  let refusals = 0
  for (let i = 0; i < events.length; i += 200) {
    const oks = await Promise.all(events.slice(i, i + 200).map(e => c.publish(e)))
    refusals += oks.filter(ok => ok[2] !== true).length
  }
  t.equal(refusals, 0, `${what}: all ${events.length} accepted`)
}

/** The relay's assertion about `provider` once `cond` holds. */
const assertion = (m: Market, provider: string, cond: (e: NostrEvent) => boolean, what: string) =>
  outputWhen(m.c, m.relay.pubkey, 30382, provider, cond, what)

/** An `input` tag of an assertion: [counted, raw]. */
const input = (e: NostrEvent, name: string) => e.tags.find(x => x[0] === 'input' && x[1] === name)?.slice(2)

/** Waits until the assertion stops changing (standing is computed after each commit here, outputs every 50 ms). */
async function settled(m: Market, provider: string, cond: (e: NostrEvent) => boolean, what: string) {
  let last = await assertion(m, provider, cond, what)
  for (;;) {
    await sleep(300)
    const next = await assertion(m, provider, cond, what)
    if (next.id === last.id) return next
    last = next
  }
}

t.test(
  '1,000 fresh keys declaring trust in, attesting to and reviewing a provider leave its score and rank',
  async t => {
    const customer = signer()
    const m = await startMarket(t, roots(customer))
    const provider = fastSigner()
    m.lnurl.setUser('p', {})
    await accepted(t, m.c, handler(provider, m.lnurl.address('p')), "the provider's 31990")
    // An honest history first: a customer with standing pays a job and reviews it.
    const req = request(customer, { bid: 10_000 })
    await accepted(t, m.c, req, 'the request')
    const res = result(provider, req, { amount: 10_000 })
    await accepted(t, m.c, res, 'the result')
    const zap = m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: customer, msats: 10_000, e: res.id })
    await accepted(t, m.c, zap.receipt, "the customer's zap")
    await accepted(t, m.c, review(customer, req, provider.pubkey, 5), "the customer's review")
    const before = await settled(m, provider.pubkey, e => tag(e, 'review_cnt') === '1', 'the honest assertion')
    // 5 for the paid job, floor(log10(10) * 10) for its sats, floor((5 - 3) * 20) for the review.
    t.match(Object.fromEntries(before.tags), { score: '55', rank: '17', jobs_paid: '1', trusted_by: '0' })

    const sybils = Array.from({ length: 1000 }, () => fastSigner())
    const jobs = sybils.map(s => request(s, { bid: 1_000 }))
    await flood(t, m.c, jobs, "the sybils' requests")
    await flood(
      t,
      m.c,
      jobs.map(j => result(provider, j)),
      "the provider's results to them",
    )
    await flood(
      t,
      m.c,
      sybils.map((s, i) => review(s, jobs[i]!, provider.pubkey, 5)),
      "the sybils' five-star reviews",
    )
    await flood(
      t,
      m.c,
      sybils.map(s => trust(s, provider.pubkey)),
      "the sybils' trust declarations",
    )
    await flood(
      t,
      m.c,
      sybils.map(s => attestation(s, provider.pubkey, 5, 1)),
      "the sybils' attestations",
    )
    const after = await settled(
      m,
      provider.pubkey,
      e => input(e, 'attestations')?.[1] === '1000' && input(e, 'trust')?.[1] === '1000',
      'the assertion after the flood',
    )
    t.equal(tag(after, 'score'), '55', 'the score is unchanged')
    t.equal(tag(after, 'rank'), '17', 'and the rank')
    t.equal(tag(after, 'jobs_delivered'), '1001', 'the deliveries are counted as deliveries')
    t.same(input(after, 'trust'), ['0', '1000'], '1,000 trust declarations count for nothing')
    t.same(input(after, 'attestations'), ['0', '1000'], '1,000 attestations count for nothing')
    t.same(input(after, 'reviews'), ['1', '1'], 'only the paid job’s review is a review that counts')
  },
)

t.test(
  "a ring of sybils paying a sybil provider through its own LNURL server and mint leaves it below any gate; one root-trusted customer's paid job raises it",
  async t => {
    const [root, honest] = [signer(), signer()]
    const m = await startMarket(t, roots(root))
    const { c } = m
    const provider = signer()
    // The provider's own LNURL server and its own mint, both on loopback.
    const lnurl = await startLnurlServer({ own: {} })
    t.teardown(() => lnurl.close())
    const keyset = makeMintKeys()
    const mint = await startMintServer([keyset])
    t.teardown(() => mint.close())
    const cashuKey = getPublicKey(generateSecretKey())
    await accepted(t, c, handler(provider, lnurl.address('own')), "the provider's 31990 naming its own server")
    await accepted(t, c, wallet(provider, mint.url, cashuKey), "the provider's 10019 naming its own mint")
    const ring = Array.from({ length: 10 }, () => signer())
    for (const [i, s] of ring.entries()) {
      const req = request(s, { bid: 64_000 })
      await accepted(t, c, req, `sybil ${i}'s request`)
      const res = result(provider, req, { amount: 64_000 })
      await accepted(t, c, res, `the provider's result to sybil ${i}`)
      // Half paid by zap through the provider's own server, half by nutzap from its own mint: all verify.
      const paid =
        i % 2 === 0
          ? lnurl.zapFor({ relayPubkey: provider.pubkey, sender: s, msats: 64_000, e: res.id }).receipt
          : s.sign({
              kind: 9321,
              tags: [
                ...issueProofs(keyset, [64], () => p2pkSecret(`02${cashuKey}`)).map(p => ['proof', JSON.stringify(p)]),
                ['u', mint.url],
                ['p', provider.pubkey],
                ['e', res.id],
              ],
            })
      await accepted(t, c, paid, `sybil ${i}'s payment`)
      t.match(jobRow(m.dataDir, req.id), { state: 'paid' }, `job ${i} is paid`)
      await accepted(t, c, review(s, req, provider.pubkey, 5), `sybil ${i}'s review`)
      await accepted(t, c, attestation(s, provider.pubkey, 5, 1), `sybil ${i}'s attestation`)
      await accepted(t, c, trust(s, provider.pubkey), `sybil ${i}'s trust`)
      // The ring vouches for itself too.
      await accepted(t, c, trust(provider, s.pubkey), `the provider's trust in sybil ${i}`)
      await accepted(t, c, trust(s, ring[(i + 1) % ring.length]!.pubkey), `sybil ${i}'s trust in the next`)
    }
    const out = await settled(m, provider.pubkey, e => input(e, 'jobs_paid')?.[1] === '10', 'the sybil assertion')
    t.match(Object.fromEntries(out.tags), { score: '0', rank: '0', jobs_paid: '0', zap_amt_recd: '0' })
    t.same(input(out, 'payments'), ['0', '640'], '640 sats verified, none from a key with standing')
    const gated = request(honest, { bid: 1_000, tags: [['min_reputation', '1']] })
    await accepted(t, c, gated, 'a request with min_reputation 1')
    await refused(
      t,
      c,
      result(provider, gated),
      'restricted',
      /needs a reputation score of 1; this provider has 0$/,
      "the sybil provider's result",
    )

    await accepted(t, c, trust(root, honest.pubkey), "a root's trust in an honest customer")
    const job = request(honest, { bid: 21_000 })
    await accepted(t, c, job, "the honest customer's request")
    const res = result(provider, job, { amount: 21_000 })
    await accepted(t, c, res, 'the provider delivers it')
    await accepted(
      t,
      c,
      lnurl.zapFor({ relayPubkey: provider.pubkey, sender: honest, msats: 21_000, e: res.id }).receipt,
      "the honest customer's zap",
    )
    const raised = await assertion(m, provider.pubkey, e => Number(tag(e, 'score')) > 0, 'the raised assertion')
    t.ok(Number(tag(raised, 'jobs_paid')) >= 1, `the paid job counts (${tag(raised, 'jobs_paid')})`)
    await accepted(t, c, result(provider, gated), 'the provider now meets the gate of 1')
  },
)

t.test('reports from customers without standing never flag; the same from customers a root trusts do', async t => {
  const root = signer()
  const m = await startMarket(t, roots(root))
  const { c } = m
  const provider = signer()
  const deliver = async (customers: Author[]) => {
    for (const k of customers) {
      const req = request(k, { bid: 1_000 })
      await accepted(t, c, req, 'a request')
      await accepted(t, c, result(provider, req), 'its delivery')
    }
  }
  const fresh = [fastSigner(), fastSigner(), fastSigner()]
  await deliver(fresh)
  for (const k of fresh) await accepted(t, c, report(k, provider.pubkey), "a fresh customer's report")
  const unflagged = await settled(m, provider.pubkey, e => input(e, 'reports')?.[1] === '3', 'three fresh reports')
  t.same(input(unflagged, 'reports'), ['0', '3'], 'three reports, of no standing')
  t.equal(tag(unflagged, 'flagged'), '0')
  const next = request(signer(), { bid: 1_000 })
  await accepted(t, c, next, 'another request')
  await accepted(t, c, result(provider, next), 'the provider still delivers')

  const trusted = [signer(), signer(), signer()]
  for (const k of trusted) await accepted(t, c, trust(root, k.pubkey), "a root's trust in a customer")
  await deliver(trusted)
  for (const k of trusted) await accepted(t, c, report(k, provider.pubkey), "a trusted customer's report")
  const last = request(signer(), { bid: 1_000 })
  await accepted(t, c, last, 'a last request')
  await refused(
    t,
    c,
    result(provider, last),
    'blocked',
    /^blocked: provider flagged \(reports from customers of its delivered jobs with standing 3\.00, at least the 3 that flags\)$/,
    'the flagged provider',
  )
  const flagged = await assertion(m, provider.pubkey, e => tag(e, 'flagged') === '1', 'the flagged assertion')
  t.same(input(flagged, 'reports'), ['3', '6'], 'six reports, three of full standing')
})

t.test('an honest provider paid by customers with standing scores what the seed formula gives', async t => {
  const [root, provider] = [signer(), signer()]
  const m = await startMarket(t, roots(root))
  const { c } = m
  m.lnurl.setUser('p', {})
  await accepted(t, c, handler(provider, m.lnurl.address('p')), "the provider's 31990")
  await accepted(t, c, trust(root, provider.pubkey), "the root's trust in the provider")
  const customers = [signer(), signer(), signer()]
  const ratings = [5, 4, 5]
  for (const [i, k] of customers.entries()) {
    await accepted(t, c, trust(root, k.pubkey), `the root's trust in customer ${i}`)
    const req = request(k, { bid: 30_000 })
    await accepted(t, c, req, `customer ${i}'s request`)
    const res = result(provider, req, { amount: 30_000 })
    await accepted(t, c, res, 'the delivery')
    await accepted(
      t,
      c,
      m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: k, msats: 30_000, e: res.id }).receipt,
      'the zap',
    )
    await accepted(t, c, review(k, req, provider.pubkey, ratings[i]!), 'the review')
  }
  const out = await settled(m, provider.pubkey, e => tag(e, 'review_cnt') === '3', 'the assertion')
  // The seed's formula on the raw counts: trusted_by×100 + floor(log10(sats)×10) + jobs_paid×5 + floor((avg−3)×20).
  const seed = 100 + Math.floor(Math.log10(90) * 10) + 3 * 5 + Math.floor((14 / 3 - 3) * 20)
  t.equal(tag(out, 'score'), String(seed), `the seed's score (${seed})`)
  t.equal(tag(out, 'rank'), String(Math.round(100 * (1 - 2 ** (-seed / 200)))), "and the seed's rank")
  t.match(Object.fromEntries(out.tags), { trusted_by: '1', jobs_paid: '3', zap_amt_recd: '90', avg_rating: '4.67' })
})

t.test("nobody deals with itself: a workflow's customer is its steps' customer, and the refusals say why", async t => {
  const m = await startMarket(t)
  const { c } = m
  const [customer, provider] = [signer(), signer()]
  const workflow = (steps: string[][]) =>
    customer.sign({ kind: 5117, tags: [['i', 'a text', 'text'], ...steps, ['bid', '20000']] })

  await refused(
    t,
    c,
    workflow([
      ['step', '0', '5100', customer.pubkey, 'summarise'],
      ['step', '1', '5200', '', 'translate'],
    ]),
    'restricted',
    /^restricted: workflow: step 0 is pinned to the workflow's own customer, who cannot deliver its own job$/,
    'a workflow pinning its own customer',
  )
  const w = workflow([
    ['step', '0', '5100', '', 'summarise'],
    ['step', '1', '5200', '', 'translate'],
  ])
  await accepted(t, c, w, 'a workflow')
  let step: NostrEvent | undefined
  for (let i = 0; i < 100 && !step; i++) {
    step = (await c.req(`s${i}`, { authors: [m.relay.pubkey], '#e': [w.id], kinds: [5100] })).events[0] as
      NostrEvent | undefined
    c.send(['CLOSE', `s${i}`])
    if (!step) await sleep(100)
  }
  t.ok(step, 'the relay published step 0')
  t.match(jobRow(m.dataDir, step!.id), { customer: customer.pubkey }, "the step's customer is the workflow's")
  await refused(
    t,
    c,
    result(customer, step!),
    'restricted',
    /^restricted: a customer cannot deliver its own job$/,
    "the workflow's customer delivering its step",
  )
  await accepted(t, c, result(provider, step!), "another provider's delivery")
  await accepted(t, c, review(customer, step!, provider.pubkey, 4), "the workflow's customer reviews the step")
  await accepted(t, c, report(customer, provider.pubkey), "and reports the step's provider")
  const reported = await assertion(m, provider.pubkey, e => input(e, 'reports')?.[1] === '1', 'the step’s provider')
  t.same(input(reported, 'reports'), ['0', '1'], "the report counts as a customer's (of no standing)")
  await refused(
    t,
    c,
    review(customer, step!, customer.pubkey, 5),
    'restricted',
    /^restricted: a review is about the other party of the job \(its p tag\)$/,
    'a review of oneself',
  )

  const swarm = customer.sign({
    kind: 5118,
    tags: [
      ['i', 'a haiku', 'text'],
      ['swarm', '2'],
      ['bid', '9000'],
    ],
  })
  await accepted(t, c, swarm, 'a swarm')
  await refused(
    t,
    c,
    result(customer, swarm),
    'restricted',
    /^restricted: a customer cannot deliver its own job$/,
    'a submission to its own swarm',
  )

  m.lnurl.setUser('p', {})
  await accepted(t, c, handler(provider, m.lnurl.address('p')), "the provider's 31990")
  await refused(
    t,
    c,
    m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: provider, msats: 21_000 }).receipt,
    'restricted',
    /^restricted: zap receipt: its payer is its recipient, and paying oneself counts for nothing$/,
    'a zap from the provider to itself',
  )
  const keyset = makeMintKeys()
  const mint = await startMintServer([keyset])
  t.teardown(() => mint.close())
  const cashuKey = getPublicKey(generateSecretKey())
  await accepted(t, c, wallet(provider, mint.url, cashuKey), "the provider's 10019")
  const proofs = issueProofs(keyset, [8], () => p2pkSecret(`02${cashuKey}`))
  await refused(
    t,
    c,
    provider.sign({
      kind: 9321,
      tags: [
        ['proof', JSON.stringify(proofs[0])],
        ['u', mint.url],
        ['p', provider.pubkey],
      ],
    }),
    'restricted',
    /^restricted: nutzap: its payer is its recipient, and paying oneself counts for nothing$/,
    'a nutzap from the provider to itself',
  )
  t.same(await queryIds(c, { kinds: [9735, 9321] }), [], 'neither payment is stored')
  const feedbackFromCustomer = feedback(customer, step!, 'success')
  await accepted(t, c, feedbackFromCustomer, "the customer's success feedback moves nothing")
  t.match(jobRow(m.dataDir, step!.id), { state: 'delivered', provider: provider.pubkey })
})
