// Swarms over WebSocket (kind 5118, DESIGN §7.8): up to `swarm` results from distinct providers, then the
// customer's pick (7000 success, p = winner) delivers the job to the winner alone. The seed stored swarms and
// enforced nothing: a provider could submit twice, anyone could pick, and no event said who won.
import t from 'tap'
import Database from 'better-sqlite3'
import type { NostrEvent } from '../../nips/nip01.js'
import { databaseFile } from '../../relay/app.js'
import { signer, type Signer } from '../helpers/events.js'
import { accepted, jobRow, outputWhen, rebuildsTheSame, refused, result, startMarket, tag } from '../helpers/market.js'

const swarmRequest = (customer: Signer, max: string | undefined, judge = 'customer') =>
  customer.sign({
    kind: 5118,
    tags: [
      ['i', 'write a haiku about relays', 'text'],
      ...(max === undefined ? [] : [['swarm', max]]),
      ['judge', judge],
      ['bid', '30000'],
    ],
  })

/** The customer's pick: 7000 success naming the swarm and the winner (and, optionally, the winning result). */
const pick = (who: Signer, swarm: NostrEvent, winner: string, result?: string) =>
  who.sign({
    kind: 7000,
    tags: [['status', 'success'], ['e', swarm.id], ...(result ? [['e', result]] : []), ['p', winner]],
  })

function submissions(dataDir: string, job: string) {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    return db
      .prepare(
        `SELECT s.provider, s.result_id, s.state FROM market_submissions s JOIN market_jobs j ON j.seq = s.job_seq
         WHERE j.id = ? ORDER BY s.created_at, s.provider`,
      )
      .all(job) as { provider: string; result_id: string; state: string }[]
  } finally {
    db.close()
  }
}

t.test('a swarm collects one submission per provider up to its size, then judges; the customer picks', async t => {
  const m = await startMarket(t)
  const { c } = m
  const [customer, a, b, late, stranger] = [signer(), signer(), signer(), signer(), signer()]
  const swarm = swarmRequest(customer, '2')
  await accepted(t, c, swarm, 'the swarm')
  const fromA = result(a, swarm, { amount: 30_000 })
  await accepted(t, c, fromA, "A's submission")
  t.match(jobRow(m.dataDir, swarm.id), { state: 'open', provider: null }, 'a submission delivers nothing yet')
  await outputWhen(c, m.relay.pubkey, 31118, swarm.id, e => tag(e, 'state') === 'collecting', 'the ledger: collecting')
  await refused(t, c, result(a, swarm), 'restricted', /provider already submitted to swarm/, "A's second submission")
  const fromB = result(b, swarm, { amount: 25_000 })
  await accepted(t, c, fromB, "B's submission")
  t.match(jobRow(m.dataDir, swarm.id), { state: 'judging' }, 'full: the swarm judges')
  await refused(t, c, result(late, swarm), 'restricted', /is judging its submissions/, 'a third provider, once full')

  await accepted(t, c, pick(stranger, swarm, a.pubkey), "a stranger's pick (stored, and it picks nothing)")
  t.match(jobRow(m.dataDir, swarm.id), { state: 'judging' }, "the stranger's pick changed nothing")
  await refused(
    t,
    c,
    pick(customer, swarm, late.pubkey),
    'restricted',
    /has no submission in swarm/,
    'the customer picking a provider that did not submit',
  )
  await accepted(t, c, pick(customer, swarm, b.pubkey, fromB.id), "the customer's pick of B")
  t.match(jobRow(m.dataDir, swarm.id), {
    state: 'delivered',
    provider: b.pubkey,
    result_id: fromB.id,
    amount_msats: 25_000,
  })
  t.strictSame(
    submissions(m.dataDir, swarm.id)
      .map(s => [s.provider, s.state])
      .sort(),
    [
      [a.pubkey, 'rejected'],
      [b.pubkey, 'winner'],
    ].sort(),
    'the winner, and the other submission rejected',
  )
  const ledger = await outputWhen(c, m.relay.pubkey, 31118, swarm.id, e => tag(e, 'state') === 'delivered', 'ledger')
  t.strictSame(
    ledger.tags
      .filter(x => x[0] === 'submission')
      .map(x => [x[1], x[3]])
      .sort(),
    [
      [a.pubkey, 'rejected'],
      [b.pubkey, 'winner'],
    ].sort(),
    'the ledger lists the submissions and their outcome',
  )
  t.equal(tag(ledger, 'swarm'), '2')
  const winner = await outputWhen(c, m.relay.pubkey, 30382, b.pubkey, e => tag(e, 'jobs_delivered') === '1', 'B')
  t.equal(tag(winner, 'jobs_delivered'), '1', 'the winner delivered the job')
  const deliveries = new Database(databaseFile(m.dataDir), { readonly: true })
  t.equal(
    deliveries.prepare('SELECT delivered FROM market_deliveries WHERE provider = ?').get(a.pubkey),
    undefined,
    'a rejected submission counts as no delivery',
  )
  deliveries.close()
  await refused(
    t,
    c,
    pick(customer, swarm, a.pubkey),
    'restricted',
    /is decided: its winner was picked/,
    'a second pick',
  )
  t.match(jobRow(m.dataDir, swarm.id), { provider: b.pubkey }, 'the first pick stands')

  rebuildsTheSame(t, m)
})

t.test('at its deadline a swarm stops collecting and waits for the pick; an empty one expires', async t => {
  // Long enough for A's submission to come before the deadline on a loaded machine.
  const m = await startMarket(t, { 'market.job_ttl': 15, 'store.sweep_interval': 1 })
  const { c } = m
  const [customer, a, b] = [signer(), signer(), signer()]
  const swarm = swarmRequest(customer, '3')
  const empty = swarmRequest(customer, '4')
  await accepted(t, c, swarm, 'the swarm')
  await accepted(t, c, empty, 'a swarm nobody answers')
  await accepted(t, c, result(a, swarm), "A's submission")
  await outputWhen(c, m.relay.pubkey, 31118, swarm.id, e => tag(e, 'state') === 'judging', 'judging at the deadline')
  await outputWhen(c, m.relay.pubkey, 31118, empty.id, e => tag(e, 'state') === 'expired', 'the empty swarm expired')
  await refused(t, c, result(b, swarm), 'restricted', /is judging its submissions/, 'a submission after the deadline')
  t.strictSame(
    submissions(m.dataDir, swarm.id).map(s => s.state),
    ['submitted'],
    'without a pick, nobody wins and nobody is paid',
  )
  await accepted(t, c, pick(customer, swarm, a.pubkey), 'the customer picks later')
  t.match(jobRow(m.dataDir, swarm.id), { state: 'delivered', provider: a.pubkey })
})

t.test('a malformed swarm request is refused with invalid: and not stored', async t => {
  const m = await startMarket(t)
  const customer = signer()
  const cases: [string, NostrEvent, RegExp][] = [
    ['without a swarm tag', swarmRequest(customer, undefined), /needs a swarm tag/],
    ['with swarm 0', swarmRequest(customer, '0'), /needs a swarm tag/],
    ['with swarm 101', swarmRequest(customer, '101'), /\(1-100\)/],
    ['with another judge', swarmRequest(customer, '2', 'anyone'), /the judge can only be the customer/],
  ]
  for (const [what, e, reason] of cases) await refused(t, m.c, e, 'invalid', reason, `a swarm ${what}`)
})
