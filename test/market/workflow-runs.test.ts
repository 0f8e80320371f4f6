// Workflows run by the relay over WebSocket (kind 5117, DESIGN §7.8): the relay publishes each step's job
// request, signed by its key, when the step before is delivered, exactly once whatever races or restarts; a
// failed, expired or cancelled workflow publishes nothing more. The seed advanced on any result, duplicated
// steps when two results came, and never published the next step.
import t from 'tap'
import Database from 'better-sqlite3'
import { databaseFile } from '../../relay/app.js'
import type { NostrEvent } from '../../nips/nip01.js'
import type { RawClient } from '../helpers/client.js'
import { signer, type Signer } from '../helpers/events.js'
import {
  accepted,
  feedback,
  outputWhen,
  rebuildsTheSame,
  refused,
  restartMarket,
  result,
  startMarket,
  step,
  steps,
  tag,
} from '../helpers/market.js'
import { sleep } from '../helpers/wait.js'

const workflow = (customer: Signer, stepTags: string[][], bid = '30000') =>
  customer.sign({
    kind: 5117,
    tags: [['i', 'a long text about relays', 'text'], ...stepTags, ['bid', bid]],
  })

/** The workflow's ledger entry once its state is `state`. */
const ledgerWhen = (c: RawClient, relay: string, w: NostrEvent, state: string) =>
  outputWhen(c, relay, 31118, w.id, e => tag(e, 'state') === state, `workflow ${state}`)

t.test('a two-step workflow: step 0 at once, step 1 to its pinned provider on the result of step 0', async t => {
  const m = await startMarket(t)
  const { c } = m
  const [customer, a, b] = [signer(), signer(), signer()]
  const w = workflow(customer, [
    ['step', '0', '5100', '', 'summarise'],
    ['step', '1', '5200', b.pubkey, 'translate the summary'],
  ])
  await accepted(t, c, w, 'the workflow')
  const first = await step(c, m.relay.pubkey, w.id, 0)
  t.equal(first.pubkey, m.relay.pubkey, 'signed by the relay')
  t.strictSame(first.tags, [
    ['i', 'a long text about relays', 'text'],
    ['P', customer.pubkey],
    ['e', w.id],
    ['step', '0'],
    ['bid', '15000'],
    ['param', 'description', 'summarise'],
  ])
  const fromA = result(a, first)
  await accepted(t, c, fromA, "A's result to step 0")
  const second = await step(c, m.relay.pubkey, w.id, 1)
  t.equal(second.kind, 5200)
  t.strictSame(second.tags.slice(0, 5), [
    ['i', fromA.id, 'job'],
    ['P', customer.pubkey],
    ['e', w.id],
    ['step', '1'],
    ['bid', '15000'],
  ])
  t.ok(
    second.tags.some(x => x[0] === 'p' && x[1] === b.pubkey),
    'step 1 names its pinned provider',
  )
  await refused(
    t,
    c,
    result(a, second),
    'restricted',
    /direct request to other providers/,
    'another provider on a pinned step',
  )
  const fromB = result(b, second)
  await accepted(t, c, fromB, "B's result to step 1")
  const ledger = await ledgerWhen(c, m.relay.pubkey, w, 'completed')
  t.strictSame(
    ledger.tags.filter(x => x[0] === 'step'),
    [
      ['step', '0', '5100', first.id, 'delivered', a.pubkey, fromA.id],
      ['step', '1', '5200', second.id, 'delivered', b.pubkey, fromB.id],
    ],
    'the ledger lists each step: its job, state, provider and result',
  )
  rebuildsTheSame(t, m)
})

t.test('three steps from the JSON form; two competing results to a step make one next step', async t => {
  const m = await startMarket(t)
  const { c } = m
  const [customer, a, b, d] = [signer(), signer(), signer(), signer()]
  const w = customer.sign({
    kind: 5117,
    content: JSON.stringify({
      input: 'raw notes',
      steps: [{ kind: 5100 }, { kind: 5200, description: 'translate' }, { kind: 5300 }],
      bid_sats: 30,
    }),
  })
  await accepted(t, c, w, 'the workflow (JSON form)')
  const first = await step(c, m.relay.pubkey, w.id, 0)
  t.equal(tag(first, 'bid'), '10000', 'a third of 30 sats')
  const outcomes = await Promise.all([c.publish(result(a, first)), c.publish(result(b, first))])
  t.strictSame(
    outcomes.map(o => o[2]).sort(),
    [false, true],
    'one competing result delivers the step, the other is refused',
  )
  t.match(outcomes.find(o => o[2] === false)?.[3], /^restricted: job \w+ is already delivered$/)
  const second = await step(c, m.relay.pubkey, w.id, 1)
  await sleep(1500)
  t.equal((await steps(c, m.relay.pubkey, w.id)).get(1)?.length, 1, 'step 1 was published once')
  await accepted(t, c, result(d, second), 'step 1 delivered')
  const third = await step(c, m.relay.pubkey, w.id, 2)
  t.equal(third.kind, 5300)
  await accepted(t, c, result(a, third), 'step 2 delivered')
  await ledgerWhen(c, m.relay.pubkey, w, 'completed')
})

t.test("a step's pinned provider giving up fails the workflow; nothing more is published", async t => {
  const m = await startMarket(t)
  const { c } = m
  const [customer, a] = [signer(), signer()]
  const w = workflow(customer, [
    ['step', '0', '5100', a.pubkey, ''],
    ['step', '1', '5200', '', ''],
  ])
  await accepted(t, c, w, 'the workflow')
  const first = await step(c, m.relay.pubkey, w.id, 0)
  await accepted(t, c, feedback(signer(), first, 'error'), "a stranger's error (changes nothing)")
  const db = new Database(databaseFile(m.dataDir), { readonly: true })
  t.equal(
    db.prepare('SELECT state FROM market_workflows WHERE id = ?').pluck().get(w.id),
    'running',
    "a stranger's error does not fail the workflow",
  )
  db.close()
  await accepted(t, c, feedback(a, first, 'error'), "the pinned provider's error")
  await ledgerWhen(c, m.relay.pubkey, w, 'failed')
  await accepted(t, c, result(a, first), 'a late result to the failed step')
  await sleep(1500)
  t.notOk((await steps(c, m.relay.pubkey, w.id)).has(1), 'no step 1 for a failed workflow')
})

t.test('a step that expires fails the workflow', async t => {
  const m = await startMarket(t, { 'market.job_ttl': 1, 'store.sweep_interval': 1 })
  const { c } = m
  const w = workflow(signer(), [
    ['step', '0', '5100', '', ''],
    ['step', '1', '5200', '', ''],
  ])
  await accepted(t, c, w, 'the workflow')
  await step(c, m.relay.pubkey, w.id, 0)
  const ledger = await ledgerWhen(c, m.relay.pubkey, w, 'failed')
  t.strictSame(
    ledger.tags.filter(x => x[0] === 'step').map(x => x[4]),
    ['expired', 'pending'],
  )
})

t.test("the customer's deletion of the workflow cancels the steps not yet published", async t => {
  const m = await startMarket(t)
  const { c } = m
  const [customer, a] = [signer(), signer()]
  const w = workflow(customer, [
    ['step', '0', '5100', '', ''],
    ['step', '1', '5200', '', ''],
  ])
  await accepted(t, c, w, 'the workflow')
  const first = await step(c, m.relay.pubkey, w.id, 0)
  await accepted(t, c, customer.sign({ kind: 5, tags: [['e', w.id]] }), 'the cancel')
  await ledgerWhen(c, m.relay.pubkey, w, 'cancelled')
  await accepted(t, c, result(a, first), 'step 0 delivered after the cancel')
  await sleep(1500)
  t.notOk((await steps(c, m.relay.pubkey, w.id)).has(1), 'no step 1 for a cancelled workflow')
})

t.test('a relay restarted in the middle of a workflow resumes it and publishes nothing twice', async t => {
  const first = await startMarket(t)
  const [customer, a, b] = [signer(), signer(), signer()]
  const w = workflow(customer, [
    ['step', '0', '5100', '', ''],
    ['step', '1', '5200', '', ''],
  ])
  await accepted(t, first.c, w, 'the workflow')
  const zero = await step(first.c, first.relay.pubkey, w.id, 0)
  const m = await restartMarket(t, first)
  await accepted(t, m.c, result(a, zero), 'step 0 delivered to the restarted relay')
  const one = await step(m.c, m.relay.pubkey, w.id, 1)
  await accepted(t, m.c, result(b, one), 'step 1 delivered')
  await ledgerWhen(m.c, m.relay.pubkey, w, 'completed')
  const published = await steps(m.c, m.relay.pubkey, w.id)
  t.strictSame(
    [...published.entries()].map(([i, es]) => [i, es.length]).sort(),
    [
      [0, 1],
      [1, 1],
    ],
    'each step published once across the restart',
  )
})

t.test('a malformed workflow is refused with invalid: naming the problem, and not stored', async t => {
  const m = await startMarket(t)
  await refused(
    t,
    m.c,
    workflow(signer(), [['step', '0', '5100', '', '']]),
    'invalid',
    /^invalid: workflow: needs at least two steps \(got 1\)$/,
    'a one-step workflow',
  )
  await refused(
    t,
    m.c,
    workflow(signer(), [
      ['step', '0', '5100', '', ''],
      ['step', '2', '5200', '', ''],
    ]),
    'invalid',
    /^invalid: workflow: step indexes must run 0 to 1 without gaps/,
    'a gap in the steps',
  )
})
