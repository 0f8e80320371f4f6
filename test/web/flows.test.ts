// The market's flows as the page shows them, in real headless Chromium on an in-process relay with the market on
// (a Cashu fixture mint and an LNURL server on loopback): the providers; a job in each state the ledger has (open,
// locked, delivered, paid, expired, cancelled, judging, completed) and escrows held, disputed and refunded, each
// row's badge in the jobs view and the totals by state, sats paid and sats in escrow; an escrowed job's page, a
// workflow's steps, a swarm's submissions and pick; then a job driven from open to paid while the page is open,
// its badge, its page and the totals following with no reload. Screenshots go to artifacts/screenshots.
import t, { type Test } from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { bytesToHex } from '@noble/curves/utils.js'
import type { Page } from 'puppeteer-core'
import { escrowAction, heartbeat, jobRequest, swarmPick, workflow } from '../../client/market.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { loadPageScript } from '../../relay/web-page.js'
import { CHROMIUM, NO_CHROMIUM, openPage, text } from '../helpers/browser.js'
import { putAll } from '../helpers/client.js'
import { escrowMarket, lockJob, packageFor, redeem, relayAction, type EscrowMarket } from '../helpers/escrow.js'
import { signer, type Signer } from '../helpers/events.js'
import { handler, ledgerWhen, request, result, step, tag } from '../helpers/market.js'
import { sleep } from '../helpers/wait.js'

// An open job expires TTL seconds after the relay received it: long enough to read the open ones on the page and
// deliver one, short enough to wait for the first job to expire.
const TTL = 30

/** A key as the page names a customer: the start of its key. */
const short = (k: { pubkey: string }) => `${k.pubkey.slice(0, 10)}…`

/** What `read` gives once it equals `want`, or whatever it gives after a minute, for the assertion to show. */
async function once<T>(read: () => Promise<T>, want: T): Promise<T> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const got = await read()
    if (isDeepStrictEqual(got, want) || Date.now() > deadline) return got
    await sleep(100)
  }
}

/** Named providers, one with a heartbeat and the lightning address its zaps are checked against. */
async function providers(m: EscrowMarket) {
  const [summariser, a, b] = [signer(), signer(), signer()]
  m.lnurl.setUser('sum', {})
  await putAll(
    m.c,
    handler(summariser, m.lnurl.address('sum'), [5100], 'Summariser'),
    summariser.sign(heartbeat('agent', 2, new Map([[5100, 40]]))),
    handler(m.provider, m.lnurl.address('escrow'), [5100], 'Escrow agent'),
    handler(a, m.lnurl.address('a'), [5100, 5200], 'Haiku A'),
    handler(b, m.lnurl.address('b'), [5100, 5200], 'Haiku B'),
  )
  return { summariser, a, b }
}

/** A zap receipt from the market's LNURL server: `customer` paid `msats` to `provider` for its result. */
const zap = (m: EscrowMarket, customer: Signer, provider: Signer, res: NostrEvent, msats: number) =>
  m.lnurl.zapFor({ relayPubkey: provider.pubkey, sender: customer, msats, e: res.id }).receipt

/**
 * Two escrowed jobs of the escrow market's customer (escrow-flows.test.ts drives the same sequences): one delivered
 * and disputed inside the window, one cancelled before delivery with its refund redeemed at the mint.
 */
async function escrows(t: Test, m: EscrowMarket) {
  const disputed = (await lockJob(t, m, 21)).req
  await putAll(
    m.c,
    result(m.provider, disputed),
    m.customer.sign(escrowAction(disputed.id, 'dispute', undefined, 'the summary is of another text')),
  )
  const refunded = await lockJob(t, m, 8)
  const refund = await packageFor(m.wallet, refunded.proofs, bytesToHex(m.customer.sk))
  await putAll(m.c, m.customer.sign(escrowAction(refunded.req.id, 'refund', refund.wire)))
  const ruling = await relayAction(m.c, m.relay.pubkey, refunded.req.id, 'ruling')
  await redeem(m.wallet, tag(ruling, 'package')!, refund.preview)
  return { disputed, refunded: refunded.req }
}

/**
 * The jobs that leave open at once: delivered, paid by zap, two escrows, a swarm picked and one judging, and a
 * two-step workflow run to completion (payments.test.ts, swarms.test.ts and workflow-runs.test.ts drive the same
 * sequences).
 */
async function seed(t: Test, m: EscrowMarket, customer: Signer) {
  const cast = await providers(m)
  const { summariser, a, b } = cast
  const delivered = request(customer, { bid: 20_000 })
  const paid = request(customer, { bid: 50_000 })
  const paidResult = result(summariser, paid, { amount: 40_000 })
  await putAll(m.c, delivered, paid, result(summariser, delivered), paidResult)
  await putAll(m.c, zap(m, customer, summariser, paidResult, 40_000))

  const swarm = customer.sign(jobRequest({ kind: 5100, input: 'a haiku about relays', bid: 30_000, swarm: 2 }))
  const judging = customer.sign(jobRequest({ kind: 5100, input: 'a haiku about caches', bid: 30_000, swarm: 1 }))
  const fromB = result(b, swarm, { amount: 25_000 })
  await putAll(m.c, swarm, judging, result(a, swarm, { amount: 30_000 }), fromB, result(a, judging))
  await putAll(m.c, customer.sign(swarmPick(swarm.id, b.pubkey, fromB.id)))

  const steps = [
    { kind: 5100, description: 'summarise' },
    { kind: 5200, description: 'translate the summary' },
  ]
  const run = customer.sign(workflow({ input: 'a long text about relays', bid: 30_000, steps }))
  await putAll(m.c, run)
  const first = await step(m.c, m.relay.pubkey, run.id, 0)
  await putAll(m.c, result(a, first))
  const second = await step(m.c, m.relay.pubkey, run.id, 1)
  await putAll(m.c, result(b, second))
  return { ...cast, delivered, paid, swarm, judging, workflow: run, first, second, ...(await escrows(t, m)) }
}

/** The lines of the job page's story once its facts name `id` and they read `want` (or after a minute). */
const story = (page: Page, id: string, want: string[]) =>
  once(
    () =>
      page.evaluate(
        id =>
          document.querySelector('table.facts td')?.textContent === id
            ? Array.from(document.querySelectorAll('ul.story li'), li => li.textContent ?? '')
            : [],
        id,
      ),
    want,
  )

/** Each job row's badge class and escrow text, by the job's id. */
const jobsShown = (page: Page) =>
  page.$$eval('a.job', rows =>
    rows.map(a => ({
      id: a.getAttribute('data-job') ?? '',
      badge: a.querySelector('.badge')?.className ?? '',
      escrow: Array.from(a.querySelectorAll('span'), s => s.textContent ?? '').find(s => s.startsWith('escrow ')) ?? '',
    })),
  )

/** The cells of each row of the table after the heading `title`. */
const tableAfter = (page: Page, title: string) =>
  page.evaluate(title => {
    const heading = Array.from(document.querySelectorAll('main h3')).find(h => h.textContent === title)
    const rows = heading?.nextElementSibling?.querySelectorAll('tr') ?? []
    return Array.from(rows, r => Array.from(r.children, c => c.textContent ?? ''))
  }, title)

/** The value in the job page's facts for `name` ("Requested", "Paid"...), or undefined. */
const fact = (page: Page, name: string) =>
  page.evaluate(
    name =>
      Array.from(document.querySelectorAll('table.facts tr')).find(r => r.firstChild?.textContent === name)?.lastChild
        ?.textContent ?? undefined,
    name,
  )

/** The totals view's cards (label: value) and its jobs by state (state: count). */
async function totalsShown(page: Page) {
  const cards = await page.evaluate(() =>
    Array.from(document.querySelectorAll('.card'), c => [
      c.lastChild?.textContent ?? '',
      c.querySelector('.value')?.textContent ?? '',
    ]),
  )
  const states = await tableAfter(page, 'Jobs by state')
  return {
    cards: Object.fromEntries(cards.map(([k, v]) => [k, v])),
    states: Object.fromEntries(states.map(([k, v]) => [k, v])),
  }
}

async function run(t: Test, executablePath: string) {
  const m = await escrowMarket(t, {
    'market.job_ttl': TTL,
    'store.sweep_interval': 1,
    'market.reconcile_interval': 1,
  })
  const customer = signer()
  // The first job, left alone, expires while the others are seeded and their pages read.
  const expiring = request(customer, { bid: 5_000 })
  await putAll(m.c, expiring)
  const cast = await seed(t, m, customer)
  const { page, errors, shot } = await openPage(t, executablePath)
  // Tall enough that the jobs view draws every row it holds.
  await page.setViewport({ width: 1280, height: 1000 })
  const loaded = await page.goto(`${m.url.replace(/^ws/, 'http')}/#/providers`)
  t.equal(loaded?.status(), 200, 'the in-process relay serves the page')
  // Every view from here on is reached by its hash or a click: this mark would not survive a reload.
  await page.evaluate(() => ((window as unknown as { flows?: string }).flows = 'one load'))
  const show = (hash: string) => page.evaluate(h => void (location.hash = h), hash)
  /** A job's page reached by its hash: its story once it reads `want` (or after a minute), saved as `name`. */
  const jobPage = async (id: string, want: string[], name: string) => {
    await show(`#/job/${id}`)
    const told = await story(page, id, want)
    await shot(name)
    return told
  }
  const named = { Summariser: cast.summariser, 'Escrow agent': m.provider, 'Haiku A': cast.a, 'Haiku B': cast.b }

  await t.test('the providers view lists them by name, the one sending heartbeats online, with their jobs', async t => {
    // Name, online, delivered (the relay's count) and price, per provider.
    const want = {
      Summariser: ['Summariser', 'online', '2', '5100: 40 sats'],
      'Escrow agent': ['Escrow agent', 'offline', '1', '–'],
      'Haiku A': ['Haiku A', 'offline', '1', '–'],
      'Haiku B': ['Haiku B', 'offline', '2', '–'],
    }
    const read = () =>
      page.evaluate(
        keys =>
          Object.fromEntries(
            Object.entries(keys).map(([name, key]) => {
              const cells = document.querySelector(`tr[data-pubkey="${key}"]`)?.children
              return [name, cells ? [0, 1, 4, 6].map(i => cells[i]?.textContent ?? '') : []]
            }),
          ),
        Object.fromEntries(Object.entries(named).map(([name, k]) => [name, k.pubkey])),
      )
    t.same(await once(read, want), want)
    await shot('flows-providers')
  })

  await t.test('an escrowed job’s page says its sats, its mint and its state in words', async t => {
    const disputed = [
      `${short(m.customer)} asked for a kind 5100 job, bidding 21 sats.`,
      `21 sats are locked in escrow at ${m.mint.url}: disputed.`,
      'Escrow agent took it and delivered a result.',
      'It is delivered now.',
    ]
    t.same(await jobPage(cast.disputed.id, disputed, 'job-escrow'), disputed, 'delivered, then disputed')
    const refunded = [
      `${short(m.customer)} asked for a kind 5100 job, bidding 8 sats.`,
      `8 sats were locked in escrow at ${m.mint.url}: refunded.`,
      'The relay ruled for the refund.',
      'The escrow was spent with two of its three keys.',
      'Escrow agent took it.',
      'It is cancelled now.',
    ]
    const told = await jobPage(cast.refunded.id, refunded, 'job-escrow-refunded')
    t.same(told, refunded, 'cancelled, and its refund redeemed')
  })

  await t.test('a workflow’s page lists its steps, each with its kind, state and provider', async t => {
    const want = [
      `${short(customer)} asked for a kind 5117 job.`,
      'Step 1 (kind 5100): delivered, by Haiku A.',
      'Step 2 (kind 5200): delivered, by Haiku B.',
      'It is completed now.',
    ]
    t.same(await jobPage(cast.workflow.id, want, 'job-workflow'), want)
    const requested = await fact(page, 'Requested')
    t.type(requested, 'string', 'the page says when it was requested')
    t.notMatch(requested, /1970/, 'the time it was requested')
  })

  await t.test('a swarm’s page lists its submissions and the customer’s pick', async t => {
    // The ledger lists the submissions in the order they came (within a second, by key); the page keeps it.
    const ledger = await ledgerWhen(m, cast.swarm.id, 'delivered')
    const name = new Map(Object.entries(named).map(([n, k]) => [k.pubkey, n]))
    const verdict: Record<string, string> = { winner: ' and was picked', rejected: ', not picked' }
    const submissions = ledger.tags
      .filter(x => x[0] === 'submission')
      .map(x => `${name.get(x[1]!)} submitted a result${verdict[x[3]!]}.`)
    t.same(
      [...submissions].sort(),
      ['Haiku A submitted a result, not picked.', 'Haiku B submitted a result and was picked.'],
      'the ledger has both submissions, B picked',
    )
    const want = [
      `${short(customer)} asked for a kind 5118 job, bidding 30 sats.`,
      ...submissions,
      'Haiku B took it and delivered a result.',
      'It is delivered now.',
    ]
    t.same(await jobPage(cast.swarm.id, want, 'job-swarm'), want)
  })

  // The first job has expired by now (TTL after it came); the jobs posted next stay open or locked as long.
  await ledgerWhen(m, expiring.id, 'expired', { timeoutMs: (TTL + 60) * 1000 })
  const open = request(customer, { bid: 10_000 })
  const live = request(customer, { bid: 30_000 })
  await putAll(m.c, open, live)
  const locked = (await lockJob(t, m, 13)).req

  await t.test('the jobs view shows each job with the badge of its state, and its escrow’s state', async t => {
    await show('#/jobs')
    const jobs: Record<string, [NostrEvent, string, string]> = {
      'request only': [open, 'open', ''],
      'request only, to be paid': [live, 'open', ''],
      'escrow locked': [locked, 'locked', 'escrow held'],
      'result, not paid': [cast.delivered, 'delivered', ''],
      zapped: [cast.paid, 'paid', ''],
      'no answer in time': [expiring, 'expired', ''],
      'escrow disputed': [cast.disputed, 'delivered', 'escrow disputed'],
      'escrow refunded': [cast.refunded, 'cancelled', 'escrow refunded'],
      'swarm picked': [cast.swarm, 'delivered', ''],
      'swarm judging': [cast.judging, 'judging', ''],
      workflow: [cast.workflow, 'completed', ''],
      'workflow step 1': [cast.first, 'delivered', ''],
      'workflow step 2': [cast.second, 'delivered', ''],
    }
    const want = Object.fromEntries(
      Object.entries(jobs).map(([k, [, state, escrow]]) => [k, [`badge ${state}`, escrow]]),
    )
    const read = async () => {
      const rows = new Map((await jobsShown(page)).map(r => [r.id, [r.badge, r.escrow]]))
      return Object.fromEntries(Object.entries(jobs).map(([k, [e]]) => [k, rows.get(e.id) ?? []]))
    }
    t.same(await once(read, want), want)
    t.equal(await text(page, 'main p.state'), '13 jobs, the latest change first', 'no other row')
    await shot('jobs-states')
  })

  await t.test('the totals count the jobs by state, the sats paid and the sats in escrow', async t => {
    await show('#/totals')
    const want = {
      cards: {
        Jobs: '13',
        'Sats paid': '40',
        // Held 13 and disputed 21; the refunded 8 are no longer in escrow.
        'Sats in escrow now': '34',
        'Providers online': '1',
        // Of the 8 jobs a provider took, one escrow disputed and one refunded.
        Disputed: '12.5 %',
        Refunded: '12.5 %',
      },
      states: {
        cancelled: '1',
        completed: '1',
        delivered: '5',
        expired: '1',
        judging: '1',
        locked: '1',
        open: '2',
        paid: '1',
      },
    }
    t.same(await once(() => totalsShown(page), want), want)
    const byKind = await tableAfter(page, 'Jobs requested, by kind')
    t.same(
      byKind.filter(([kind]) => kind !== '5117'),
      [
        ['Kind', 'Last hour', 'Last day'],
        ['5100', '9', '9'],
        ['5118', '2', '2'],
        ['5200', '1', '1'],
      ],
      'jobs requested by kind, the workflow steps by theirs',
    )
    t.same(
      byKind.find(([kind]) => kind === '5117'),
      ['5117', '1', '1'],
      'and the workflow',
    )
    await shot('totals-states')
  })

  await t.test('a job paid while the page is open: its badge, its page and the totals follow, no reload', async t => {
    await page.click('nav a[data-view="jobs"]')
    const row = `a.job[data-job="${live.id}"]`
    await page.waitForSelector(`${row} .badge.open`, { timeout: 60_000 })
    const res = result(cast.summariser, live, { amount: 30_000 })
    await putAll(m.c, res)
    await page.waitForSelector(`${row} .badge.delivered`, { timeout: 60_000 })
    await putAll(m.c, zap(m, customer, cast.summariser, res, 30_000))
    await page.waitForSelector(`${row} .badge.paid`, { timeout: 60_000 })
    t.match(await text(page, row), 'paid 30 sats')
    await shot('jobs-paid-live')

    await page.click(row)
    const want = [
      `${short(customer)} asked for a kind 5100 job, bidding 30 sats.`,
      'Summariser took it and delivered a result.',
      'Paid 30 sats by zap.',
      'It is paid now.',
    ]
    t.same(await story(page, live.id, want), want, 'its page tells the payment')
    t.type(await fact(page, 'Delivered'), 'string', 'when it was delivered')
    t.match(await fact(page, 'Paid'), /, 30 sats$/, 'and when it was paid')
    await shot('job-paid-live')

    await page.click('nav a[data-view="totals"]')
    const paid = { satsPaid: '70', paid: '2' }
    const read = async () => {
      const x = await totalsShown(page)
      return { satsPaid: x.cards['Sats paid'], paid: x.states['paid'] }
    }
    t.same(await once(read, paid), paid, 'the totals count its sats')
    await shot('totals-paid-live')
    t.equal(
      await page.evaluate(() => (window as unknown as { flows?: string }).flows),
      'one load',
      'the page was never reloaded',
    )
  })

  t.same(errors, [], 'no script error on the page')
}

const chromium = CHROMIUM
if (!chromium) t.plan(0, NO_CHROMIUM)
else if (!loadPageScript()) t.fail('dist/web/app.js is missing: run npm run build first')
// One test around the rest: the root test, once it has a teardown, ends when idle, as between seeding steps.
else await t.test('the market page shows the market’s flows', t => run(t, chromium))
