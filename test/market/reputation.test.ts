// Reputation over WebSocket (DESIGN §7.3, §7.7): reports flag a provider only when they come from customers
// of its delivered jobs with standing, and a withdrawn report stops counting; a request's gates (min_reputation,
// min_zap_sats) keep providers below them out; attestations are checked, replaced and weighted; a
// provider's `online` follows the relay's clock, not its heartbeat's created_at. The relay-signed 30382 is
// read back for each.
import t, { type Test } from 'tap'
import type { NostrEvent } from '../../nips/nip01.js'
import { queryIds } from '../helpers/client.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { sleep } from '../helpers/wait.js'
import {
  accepted,
  attestation,
  feedback,
  handler,
  jobRow,
  refused,
  report,
  request,
  result,
  roots,
  outputWhen,
  startMarket,
  tag,
  trust,
  type Market,
} from '../helpers/market.js'

/** The relay's NIP-85 assertion about `provider`, once it satisfies `cond` (outputs are debounced). */
const assertion = (m: Market, provider: Signer, cond: (e: NostrEvent) => boolean, what: string) =>
  outputWhen(m.c, m.relay.pubkey, 30382, provider.pubkey, cond, what)

/** An output's tags by name, one value each (the `attestations` tag's two values are read from `.tags`). */
const fields = (e: NostrEvent) => Object.fromEntries(e.tags.map(x => [x[0], x[1]]))

/** `rank` for a positive score of an unflagged provider (market/reputation.ts). */
const rankOf = (score: number) => Math.min(100, Math.round(100 * (1 - 2 ** (-score / 200))))

/** n new customers (or these), each with a job that `provider` delivered: the keys whose reports count. */
async function counterparties(
  t: Test,
  m: Market,
  provider: Signer,
  n: number,
  customers = Array.from({ length: n }, () => signer()),
): Promise<Signer[]> {
  for (const [i, customer] of customers.entries()) {
    const req = request(customer, { bid: 1_000 })
    await accepted(t, m.c, req, `customer ${i + 1}'s request`)
    await accepted(t, m.c, result(provider, req), `the provider delivers job ${i + 1}`)
  }
  return customers
}

/** The message of the refusal of a provider flagged by customers of full standing, `n` of a threshold of `of`. */
const flaggedBy = (n: number, of = 3) =>
  new RegExp(
    `^blocked: provider flagged \\(reports from customers of its delivered jobs with standing ${n}\\.00, at least the ${of} that flags\\)$`,
  )

t.test('reports from keys that had no job with the provider do not flag it', async t => {
  const m = await startMarket(t)
  const { c } = m
  const [provider, other] = [signer(), signer()]
  // A key with no job at all, and two customers of another provider's delivered jobs.
  const reporters = [signer(), ...(await counterparties(t, m, other, 2))]
  const reports = reporters.map(r => report(r, provider.pubkey))
  for (const [i, r] of reports.entries()) await accepted(t, c, r, `report ${i + 1}`)
  t.same(
    (await queryIds(c, { ids: reports.map(r => r.id) })).sort(),
    reports.map(r => r.id).sort(),
    'every report is stored',
  )

  const req = request(signer(), { bid: 1_000 })
  await accepted(t, c, req, 'a request')
  await accepted(t, c, feedback(provider, req, 'processing'), "the reported provider's feedback")
  await accepted(t, c, result(provider, req), "the reported provider's result")
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', provider: provider.pubkey })
  const out = await assertion(m, provider, e => tag(e, 'jobs_delivered') === '1', 'the assertion after delivery')
  t.match(fields(out), { flagged: '0', reports: '0' }, 'not flagged, no report counted')
})

t.test(
  "three customers with standing of a provider's delivered jobs flag it: its results and feedback are blocked",
  async t => {
    const customers = [signer(), signer(), signer()]
    const truster = signer()
    const m = await startMarket(t, roots(truster, ...customers))
    const { c } = m
    const provider = signer()
    // A trust declaration gives the provider a score, so that rank 0 below is the flag's doing.
    await accepted(t, c, trust(truster, provider.pubkey), 'a trust declaration for the provider')
    await counterparties(t, m, provider, 3, customers)
    const before = await assertion(
      m,
      provider,
      e => tag(e, 'jobs_delivered') === '3' && tag(e, 'trusted_by') === '1',
      'the assertion before any report',
    )
    t.match(fields(before), { score: '100', rank: String(rankOf(100)), flagged: '0', reports: '0' })

    // One customer reporting twice is one reporter.
    await accepted(t, c, report(customers[0]!, provider.pubkey, 'spam'), "customer 1's report")
    await accepted(t, c, report(customers[0]!, provider.pubkey, 'other'), "customer 1's second report")
    await accepted(t, c, report(customers[1]!, provider.pubkey), "customer 2's report")
    const two = await assertion(m, provider, e => tag(e, 'reports') === '2', 'two reporters counted')
    t.equal(tag(two, 'flagged'), '0', 'two distinct reporters do not flag')
    const early = request(signer(), { bid: 1_000 })
    await accepted(t, c, early, 'a request')
    await accepted(t, c, result(provider, early), 'the provider still delivers with two reporters')

    await accepted(t, c, report(customers[2]!, provider.pubkey), "customer 3's report")
    const req = request(signer(), { bid: 1_000 })
    await accepted(t, c, req, 'a request after the third report')
    await refused(
      t,
      c,
      feedback(provider, req, 'processing'),
      'blocked',
      flaggedBy(3),
      "the flagged provider's feedback",
    )
    await refused(t, c, result(provider, req), 'blocked', flaggedBy(3), "the flagged provider's result")
    t.match(jobRow(m.dataDir, req.id), { state: 'open', provider: null }, 'the job stays open')
    await accepted(t, c, result(signer(), req), 'another provider may still deliver it')

    const after = await assertion(m, provider, e => tag(e, 'flagged') === '1', 'the assertion once flagged')
    t.match(
      fields(after),
      { flagged: '1', reports: '3', rank: '0', score: '100' },
      'flagged, rank 0 whatever the score',
    )
  },
)

t.test("the reporter's deletion of its report unflags the provider", async t => {
  const customers = [signer(), signer(), signer()]
  const m = await startMarket(t, roots(...customers))
  const { c } = m
  const [provider, stranger] = [signer(), signer()]
  await counterparties(t, m, provider, 3, customers)
  const reports = customers.map(k => report(k, provider.pubkey))
  for (const [i, r] of reports.entries()) await accepted(t, c, r, `customer ${i + 1}'s report`)
  const req = request(signer(), { bid: 1_000 })
  await accepted(t, c, req, 'a request')
  await refused(t, c, result(provider, req), 'blocked', flaggedBy(3), 'the flagged provider’s result')

  // Anyone may store a deletion under its own key; only the reporter's withdraws the report.
  await accepted(t, c, stranger.sign({ kind: 5, tags: [['e', reports[0]!.id]] }), "a stranger's deletion of a report")
  t.same(await queryIds(c, { ids: [reports[0]!.id] }), [reports[0]!.id], 'the report is still served')
  await refused(t, c, result(provider, req), 'blocked', flaggedBy(3), 'the result after the stranger’s deletion')

  await accepted(t, c, customers[0]!.sign({ kind: 5, tags: [['e', reports[0]!.id]] }), "the reporter's deletion")
  t.same(await queryIds(c, { ids: [reports[0]!.id] }), [], 'the report is gone')
  const res = result(provider, req)
  await accepted(t, c, res, 'the provider delivers again')
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', provider: provider.pubkey, result_id: res.id })
  const out = await assertion(m, provider, e => tag(e, 'jobs_delivered') === '4', 'the assertion after the deletion')
  t.match(fields(out), { flagged: '0', reports: '2' }, 'two reports count, not flagged')
})

t.test('market.flag_threshold = 2: two counting reporters of full standing flag', async t => {
  const customers = [signer(), signer()]
  const m = await startMarket(t, { 'market.flag_threshold': 2, ...roots(...customers) })
  const { c } = m
  const provider = signer()
  await counterparties(t, m, provider, 2, customers)
  await accepted(t, c, report(customers[0]!, provider.pubkey), "customer 1's report")
  const first = request(signer(), { bid: 1_000 })
  await accepted(t, c, first, 'a request')
  await accepted(t, c, result(provider, first), 'one reporter under a threshold of 2: still delivers')
  await accepted(t, c, report(customers[1]!, provider.pubkey), "customer 2's report")
  const second = request(signer(), { bid: 1_000 })
  await accepted(t, c, second, 'another request')
  await refused(t, c, result(provider, second), 'blocked', flaggedBy(2, 2), 'two reporters under a threshold of 2')
  const out = await assertion(m, provider, e => tag(e, 'reports') === '2', 'the assertion with two reports')
  t.match(fields(out), { flagged: '1', rank: '0' })
})

t.test(
  'min_reputation gate, as a tag and as a param: DVM trust from a key with standing lets the provider in',
  async t => {
    const [customer, provider, truster] = [signer(), signer(), signer()]
    const m = await startMarket(t, roots(truster))
    const { c } = m
    const byTag = request(customer, { bid: 1_000, tags: [['min_reputation', '100']] })
    const byParam = request(customer, { bid: 2_000, tags: [['param', 'min_reputation', '50']] })
    const over = request(customer, { bid: 3_000, tags: [['min_reputation', '101']] })
    for (const r of [byTag, byParam, over]) await accepted(t, c, r, 'a gated request')
    const needs = (req: NostrEvent, n: number, has: number) =>
      new RegExp(`^restricted: job ${req.id.slice(0, 12)} needs a reputation score of ${n}; this provider has ${has}$`)

    await refused(t, c, result(provider, byTag), 'restricted', needs(byTag, 100, 0), 'a fresh provider, tag gate')
    await refused(t, c, result(provider, byParam), 'restricted', needs(byParam, 50, 0), 'a fresh provider, param gate')
    await refused(
      t,
      c,
      trust(provider, provider.pubkey),
      'restricted',
      /cannot declare trust in itself/,
      "the provider's trust in itself",
    )
    await refused(t, c, result(provider, byTag), 'restricted', needs(byTag, 100, 0), 'after the self-declaration')

    await accepted(t, c, trust(truster, provider.pubkey), "another key's DVM trust declaration")
    await accepted(t, c, result(provider, byTag), 'score 100 meets a gate of 100')
    await accepted(t, c, result(provider, byParam), 'and a param gate of 50')
    await refused(t, c, result(provider, over), 'restricted', needs(over, 101, 100), 'but not a gate of 101')
    const out = await assertion(m, provider, e => tag(e, 'jobs_delivered') === '2', 'the assertion')
    t.match(fields(out), { trusted_by: '1', score: '100' })
  },
)

t.test('min_zap_sats gate: the sats of verified zaps the provider received from keys with standing', async t => {
  const [customer, provider, fan] = [signer(), signer(), signer()]
  const m = await startMarket(t, roots(fan))
  const { c } = m
  m.lnurl.setUser('prov', {})
  await accepted(t, c, handler(provider, m.lnurl.address('prov')), "the provider's handler with its lud16")
  const byTag = request(customer, { bid: 1_000, tags: [['min_zap_sats', '21']] })
  const byParam = request(customer, { bid: 2_000, tags: [['param', 'min_zap_sats', '21']] })
  for (const r of [byTag, byParam]) await accepted(t, c, r, 'a gated request')
  const short = (req: NostrEvent, has: number) =>
    new RegExp(
      `^restricted: job ${req.id.slice(0, 12)} is open to providers with 21 sats of verified payments from keys with standing; this one has ${has}$`,
    )

  await refused(t, c, result(provider, byTag), 'restricted', short(byTag, 0), 'no zaps, tag gate')
  await refused(t, c, result(provider, byParam), 'restricted', short(byParam, 0), 'no zaps, param gate')
  await accepted(
    t,
    c,
    m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: fan, msats: 20_000 }).receipt,
    'a verified zap of 20 sats',
  )
  await refused(t, c, result(provider, byTag), 'restricted', short(byTag, 20), '20 sats received')
  await accepted(
    t,
    c,
    m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: fan, msats: 1_000 }).receipt,
    'another verified zap of 1 sat',
  )
  await accepted(t, c, result(provider, byTag), '21 sats meet the tag gate')
  await accepted(t, c, result(provider, byParam), 'and the param gate')
  const out = await assertion(m, provider, e => tag(e, 'jobs_delivered') === '2', 'the assertion')
  t.equal(tag(out, 'zap_amt_recd'), '21')
})

t.test('attestations: checked, replaced by a newer one, ratings of 2 or less weigh double', async t => {
  const [provider, a, b] = [signer(), signer(), signer()]
  const m = await startMarket(t, roots(a, b))
  const { c } = m
  const p = provider.pubkey
  const at = now()
  const attestations = (e: NostrEvent) => e.tags.find(x => x[0] === 'attestations')?.slice(1)

  await refused(t, c, attestation(provider, p, 5), 'restricted', /a key cannot attest to itself/, 'a self-attestation')
  await refused(t, c, attestation(a, p, 6), 'invalid', /^invalid: attestation: rating must be/, 'rating 6')
  await refused(t, c, attestation(a, p, 4, 2), 'invalid', /^invalid: attestation: confidence must be/, 'confidence 2')
  const unexpiring = a.sign({
    kind: 30085,
    tags: [
      ['d', `${p}:nip90.5100`],
      ['p', p],
    ],
    content: JSON.stringify({ subject: p, rating: 4, confidence: 0.9, context: 'nip90.5100' }),
  })
  await refused(t, c, unexpiring, 'invalid', /^invalid: attestation: needs an expiration tag/, 'no expiration')

  const first = attestation(a, p, 4, 0.9, at - 10)
  await accepted(t, c, first, "a's attestation, rating 4")
  let out = await assertion(m, provider, e => tag(e, 'attestations') === '1', 'the assertion with one attestation')
  t.same(attestations(out), ['1', '4.00'], 'count 1, mean 4')
  t.equal(tag(out, 'score'), '15', 'floor((4 - 3) * 15)')

  const newer = attestation(a, p, 1, 0.9, at - 5)
  await accepted(t, c, newer, "a's newer attestation, rating 1, same d")
  t.same(await queryIds(c, { ids: [first.id] }), [], 'replaces the older one in the store')
  out = await assertion(m, provider, e => attestations(e)?.[1] === '1.00', 'the assertion after the replacement')
  t.same(attestations(out), ['1', '1.00'], 'count stays 1, the mean is the newer rating')
  t.equal(tag(out, 'score'), '-30', 'floor((1 - 3) * 15)')
  await refused(
    t,
    c,
    attestation(a, p, 5, 0.9, at - 20),
    'blocked',
    /newer version/,
    "an older attestation of a's at the same d",
  )

  // b, received later (so its weight is the larger by a hair): (1 * 0.9 * 2 + 5 * 0.9) / (0.9 * 2 + 0.9) = 7/3.
  await accepted(t, c, attestation(b, p, 5, 0.9, at), "b's attestation, rating 5")
  out = await assertion(m, provider, e => attestations(e)?.[0] === '2', 'the assertion with two attestations')
  t.same(attestations(out), ['2', '2.33'], 'the rating of 1 weighs double against the 5 (an even weight gives 3.00)')
  t.match(fields(out), { score: '-10', rank: '0' }, 'floor((7/3 - 3) * 15) = -10')
})

t.test('a future-dated heartbeat does not keep a provider online', async t => {
  const m = await startMarket(t, { 'market.offline_after': 1 })
  const provider = signer()
  // Send at the start of a second, so the first publication (50 ms later) falls in the same second.
  await sleep(1_020 - (Date.now() % 1_000))
  const sent = now()
  const beat = provider.sign({
    kind: 30333,
    created_at: sent + 800,
    tags: [
      ['d', 'node-1'],
      ['status', 'online'],
      ['capacity', '2'],
      ['k', '5100'],
    ],
  })
  await accepted(t, m.c, beat, 'a heartbeat dated 800 s ahead')
  const on = await assertion(m, provider, e => tag(e, 'online') === '1', 'online after the heartbeat')
  const off = await assertion(m, provider, e => tag(e, 'online') === '0', 'offline with no new event')
  t.ok(off.created_at > on.created_at, 'a newer assertion')
  t.ok(now() - sent <= 5, `within a few seconds (${now() - sent} s)`)
})
