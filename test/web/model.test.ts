// The market page's model (web/model.ts): providers built from real signed events as the relay serves them.
import t from 'tap'
import { handlerInfo, heartbeat, jobRequest, review } from '../../client/market.js'
import {
  attestationsOf,
  describeJob,
  duration,
  filterRows,
  jobRows,
  Latest,
  paidSeries,
  parsePrice,
  providerRows,
  relayRules,
  requestSeries,
  resultFacts,
  reviewsOf,
  sortRows,
  totals,
} from '../../web/model.js'
import { signer } from '../helpers/events.js'
import { loadConfig } from '../../config/load.js'
import { buildInfo } from '../../nips/nip11.js'
import { policyInfo } from '../../policies/index.js'

const relay = signer()
const alice = signer()
const bob = signer()
const carol = signer()
const at = 1_700_000_000

const assertion = (about: string, tags: string[][], by = relay) =>
  by.sign({ kind: 30382, created_at: at, tags: [['d', about], ['p', about], ...tags] })

const events = [
  alice.sign({
    ...handlerInfo(
      'a1',
      [5100],
      JSON.stringify({
        name: 'Alice <b>bold</b>',
        about: 'translates',
        skill: {
          features: ['translation', 7, '<i>x</i>'],
          models: ['llama3'],
          input: { type: ['text', 'url'] },
          params: {
            type: 'object',
            properties: { lang: { type: 'string', description: 'target language' }, n: { type: 'integer' } },
            required: ['lang'],
          },
        },
      }),
    ),
    created_at: at,
  }),
  alice.sign({ ...handlerInfo('a2', [5200], JSON.stringify({ name: 'older name' })), created_at: at - 10 }),
  alice.sign({
    ...heartbeat(
      'hb',
      2,
      new Map([
        [5100, 20],
        [5200, 50],
      ]),
    ),
    created_at: at,
  }),
  assertion(alice.pubkey, [
    ['rank', '80'],
    ['standing', '7'],
    ['jobs_delivered', '4'],
    ['jobs_paid', '3'],
    ['online', '1'],
    ['flagged', '0'],
    ['input', 'trust', '2', '5'],
  ]),
  bob.sign({ ...handlerInfo('b', [5100], 'not json'), created_at: at }),
  assertion(bob.pubkey, [
    ['rank', '0'],
    ['online', '0'],
    ['flagged', '1'],
  ]),
  // Anyone else's 30382 is a trust declaration, not a rank: it must not make carol ranked.
  assertion(carol.pubkey, [['rank', '90']], alice),
  carol.sign({ ...heartbeat('c', 1, new Map([[5300, 5]])), created_at: at }),
]

t.test('a row per provider, from its handlers, heartbeat and the relay’s assertion only', async t => {
  const rows = providerRows(events, relay.pubkey)
  const byKey = new Map(rows.map(r => [r.pubkey, r]))
  t.same([...byKey.keys()].sort(), [alice.pubkey, bob.pubkey, carol.pubkey].sort())
  const a = byKey.get(alice.pubkey)!
  t.equal(a.name, 'Alice <b>bold</b>', 'the newest handler’s name, as written')
  t.same(a.kinds, [5100, 5200], 'kinds of every handler')
  t.same(
    [...a.price],
    [
      [5100, 20],
      [5200, 50],
    ],
  )
  t.match(a, { online: true, rank: 80, standing: 7, jobsDelivered: 4, jobsPaid: 3, flagged: false })
  t.same(a.inputs, [{ name: 'trust', counted: '2', raw: '5' }])
  t.same(a.features, ['translation', '<i>x</i>'], 'the skill’s words as written; a non-string is dropped')
  t.same(a.models, ['llama3'])
  t.same(a.inputTypes, ['text', 'url'])
  t.same(a.params, [
    { name: 'lang', type: 'string', description: 'target language', required: true },
    { name: 'n', type: 'integer', description: '', required: false },
  ])
  const b = byKey.get(bob.pubkey)!
  t.match(b, { name: '', online: false, rank: 0, flagged: true }, 'content that is not JSON names nothing')
  t.same([b.features, b.params], [[], []])
  const c = byKey.get(carol.pubkey)!
  t.equal(c.rank, undefined, 'a stranger’s 30382 does not rank')
  t.equal(c.online, true, 'without the relay’s word, its heartbeat says online')
  t.same(c.kinds, [5300])
})

t.test('sorting and filters', async t => {
  const rows = providerRows(events, relay.pubkey)
  const order = (key: Parameters<typeof sortRows>[1]['key'], descending = false) =>
    sortRows(rows, { key, descending }).map(r => r.pubkey)
  t.same(order('rank', true), [alice.pubkey, bob.pubkey, carol.pubkey], 'best first, unranked last')
  t.same(order('rank'), [carol.pubkey, bob.pubkey, alice.pubkey])
  t.same(order('price'), [carol.pubkey, alice.pubkey, bob.pubkey], 'by the lowest price, none last')
  t.same(
    filterRows(rows, { kind: 5100 })
      .map(r => r.pubkey)
      .sort(),
    [alice.pubkey, bob.pubkey].sort(),
  )
  t.same(
    filterRows(rows, { feature: 'translation' }).map(r => r.pubkey),
    [alice.pubkey],
  )
  t.same(
    filterRows(rows, { onlineOnly: true })
      .map(r => r.pubkey)
      .sort(),
    [alice.pubkey, carol.pubkey].sort(),
  )
})

t.test('prices: malformed entries are skipped', async t => {
  t.same(
    [...parsePrice('5100:20, x:1,5200:abc,5300:7')],
    [
      [5100, 20],
      [5300, 7],
    ],
  )
  t.same([...parsePrice(undefined)], [])
})

t.test('Latest keeps the newest event of each address, the lowest id at equal times', async t => {
  const l = new Latest()
  const old = alice.sign({ ...heartbeat('hb', 1, new Map()), created_at: at })
  const newer = alice.sign({ ...heartbeat('hb', 2, new Map()), created_at: at + 1 })
  const other = alice.sign({ ...heartbeat('other', 3, new Map()), created_at: at })
  t.ok(l.add(old))
  t.ok(l.add(newer))
  t.notOk(l.add(old), 'an older version is dropped')
  t.ok(l.add(other), 'another address is kept beside it')
  t.same([...l.events()].map(e => e.id).sort(), [newer.id, other.id].sort())
  const twinA = alice.sign({ ...heartbeat('tie', 1, new Map()), created_at: at })
  const twinB = alice.sign({ ...heartbeat('tie', 2, new Map()), created_at: at })
  const [low, high] = [twinA, twinB].sort((x, y) => (x.id < y.id ? -1 : 1))
  t.ok(l.add(high!))
  t.ok(l.add(low!), 'the lower id wins a tie')
  t.notOk(l.add(high!))
})

t.test('Latest keeps every regular event once, by id, and tells the oldest it holds of a sort', async t => {
  const l = new Latest()
  const first = carol.sign({ ...jobRequest({ kind: 5100, input: 'one' }), created_at: at })
  const second = carol.sign({ ...jobRequest({ kind: 5100, input: 'two' }), created_at: at + 5 })
  t.ok(l.add(second))
  t.ok(l.add(first), 'a second request of the same author and kind is kept beside the first')
  t.notOk(l.add(first), 'the same event twice is kept once')
  t.equal([...l.events()].length, 2)
  t.equal(
    l.oldest(e => e.kind === 5100),
    at,
  )
  t.equal(
    l.oldest(e => e.kind === 31118),
    undefined,
  )
})

const ledger = (id: string, changedAt: number, tags: string[][], by = relay) =>
  by.sign({ kind: 31118, created_at: changedAt, tags: [['d', id], ...tags] })

t.test('jobs from the relay’s ledger, the latest change first, in every shape it writes', async t => {
  const [open, escrowed, paid, flow, swarm] = ['a', 'b', 'c', 'd', 'e'].map(c => c.repeat(64))
  const entries = [
    ledger(open!, at, [
      ['k', '5100'],
      ['customer', carol.pubkey],
      ['state', 'open'],
      ['requested_at', String(at)],
      ['bid', '21000'],
    ]),
    ledger(escrowed!, at + 1, [
      ['k', '5100'],
      ['customer', carol.pubkey],
      ['state', 'locked'],
      ['requested_at', String(at)],
      ['provider', alice.pubkey],
      ['escrow', 'lock1', 'http://mint.example', '50', String(at + 9000)],
      ['escrow_state', 'locked'],
      ['paid', '0'],
    ]),
    ledger(paid!, at + 3, [
      ['k', '5200'],
      ['customer', carol.pubkey],
      ['state', 'paid'],
      ['requested_at', String(at)],
      ['provider', alice.pubkey],
      ['result', 'f'.repeat(64)],
      ['delivered_at', String(at + 2)],
      ['paid', '30000'],
      ['payment', 'zap', 'receipt-id', '30000', 'ref1'],
      ['paid_at', String(at + 3)],
    ]),
    ledger(flow!, at + 2, [
      ['k', '5117'],
      ['customer', carol.pubkey],
      ['state', 'running'],
      ['step', '0', '5100', 'x'.repeat(64), 'paid', alice.pubkey, 'y'.repeat(64)],
      ['step', '1', '', '', 'pending', '', ''],
    ]),
    ledger(swarm!, at + 1, [
      ['k', '5118'],
      ['customer', carol.pubkey],
      ['state', 'collecting'],
      ['swarm', '2'],
      ['submission', alice.pubkey, 'r1', 'submitted'],
      ['submission', bob.pubkey, 'r2', 'submitted'],
    ]),
    // Only the relay's ledger counts: anyone can sign a 31118.
    ledger(
      '9'.repeat(64),
      at + 5,
      [
        ['k', '5100'],
        ['state', 'paid'],
      ],
      carol,
    ),
  ]
  const rows = jobRows(entries, relay.pubkey)
  t.same(
    rows.map(r => r.id),
    [paid, flow, escrowed, swarm, open],
    'latest change first, ties by id',
  )
  const byId = new Map(rows.map(r => [r.id, r]))
  t.match(byId.get(open!), { state: 'open', kind: 5100, bidMsats: 21000, provider: undefined, paidMsats: 0 })
  t.same(byId.get(escrowed!)!.escrow, { mint: 'http://mint.example', sats: 50, state: 'locked' })
  t.match(byId.get(paid!), { state: 'paid', paidMsats: 30000, deliveredAt: at + 2, paidAt: at + 3 })
  t.same(byId.get(paid!)!.payments, [{ via: 'zap', msats: 30000 }])
  t.same(byId.get(flow!)!.steps, [
    { kind: 5100, state: 'paid', provider: alice.pubkey },
    { kind: undefined, state: 'pending', provider: '' },
  ])
  t.same(
    byId.get(swarm!)!.submissions.map(x => x.provider),
    [alice.pubkey, bob.pubkey],
  )

  const name = (k: string) => (k === alice.pubkey ? 'Alice' : k === carol.pubkey ? 'Carol' : 'someone')
  t.same(describeJob(byId.get(paid!)!, name), [
    'Carol asked for a kind 5200 job.',
    'Alice took it and delivered a result.',
    'Paid 30 sats by zap.',
    'It is paid now.',
  ])
  t.same(describeJob(byId.get(escrowed!)!, name), [
    'Carol asked for a kind 5100 job.',
    '50 sats are locked in escrow at http://mint.example: locked.',
    'Alice took it.',
    'It is locked now.',
  ])
  t.match(describeJob(byId.get(flow!)!, name).join('\n'), 'Step 1 (kind 5100): paid, by Alice.\nStep 2: pending.')
  t.match(describeJob(byId.get(open!)!, name)[0], 'bidding 21 sats')
})

t.test('a request the ledger has no entry for is an open job; once the ledger has it, the entry tells it', async t => {
  const waiting = carol.sign({ ...jobRequest({ kind: 5300, input: 'q', bid: 7000 }), created_at: at + 10 })
  const taken = carol.sign({ ...jobRequest({ kind: 5100, input: 'r' }), created_at: at })
  const entry = ledger(taken.id, at + 20, [
    ['k', '5100'],
    ['customer', carol.pubkey],
    ['state', 'delivered'],
    ['requested_at', String(at)],
    ['provider', alice.pubkey],
  ])
  const note = carol.sign({ kind: 1, created_at: at + 30, tags: [], content: 'not a job' })
  const rows = jobRows([waiting, taken, entry, note], relay.pubkey)
  t.same(
    rows.map(r => [r.id, r.state]),
    [
      [taken.id, 'delivered'],
      [waiting.id, 'open'],
    ],
  )
  t.match(rows[1], {
    kind: 5300,
    customer: carol.pubkey,
    bidMsats: 7000,
    provider: undefined,
    requestedAt: at + 10,
    changedAt: at + 10,
  })
  t.same(
    describeJob(rows[1]!, k => (k === carol.pubkey ? 'Carol' : '?')),
    ['Carol asked for a kind 5300 job, bidding 7 sats.', 'It is open now.'],
  )
})

t.test('totals: jobs by kind over the hour and the day, sats paid and held, providers online, rates', async t => {
  const now = at + 100_000
  const job = (id: string, tags: string[][]) => ledger(id.repeat(64), now, [['customer', carol.pubkey], ...tags])
  const rows = jobRows(
    [
      job('1', [
        ['k', '5100'],
        ['state', 'open'],
        ['requested_at', String(now - 60)],
      ]),
      job('2', [
        ['k', '5100'],
        ['state', 'paid'],
        ['requested_at', String(now - 7200)],
        ['provider', alice.pubkey],
        ['paid', '21000'],
      ]),
      job('3', [
        ['k', '5200'],
        ['state', 'delivered'],
        ['requested_at', String(now - 600)],
        ['provider', alice.pubkey],
        ['escrow', 'l', 'http://mint', '40', '0'],
        ['escrow_state', 'disputed'],
      ]),
      job('4', [
        ['k', '5200'],
        ['state', 'delivered'],
        ['requested_at', String(now - 200_000)],
        ['provider', bob.pubkey],
        ['escrow', 'l', 'http://mint', '70', '0'],
        ['escrow_state', 'refunded'],
      ]),
      job('5', [
        ['k', '5100'],
        ['state', 'paid'],
        ['requested_at', String(now - 100)],
        ['provider', bob.pubkey],
        ['paid', '9999'],
        ['escrow', 'l', 'http://mint', '10', '0'],
        ['escrow_state', 'settled'],
      ]),
    ],
    relay.pubkey,
  )
  const x = totals(rows, providerRows(events, relay.pubkey), now)
  t.equal(x.jobs, 5)
  t.same([...x.lastHour].sort(), [
    [5100, 2],
    [5200, 1],
  ])
  t.same([...x.lastDay].sort(), [
    [5100, 3],
    [5200, 1],
  ])
  t.equal(x.satsPaid, 21 + 9, 'whole sats of what each was paid')
  t.equal(x.satsInEscrow, 40, 'only locks not yet spent')
  t.equal(x.providersOnline, 2, 'alice by the relay’s word, carol by her heartbeat')
  t.equal(x.disputeRate, 1 / 4)
  t.equal(x.refundRate, 1 / 4)
  t.same([...x.byState].sort(), [
    ['delivered', 2],
    ['open', 1],
    ['paid', 2],
  ])
  t.same(totals([], [], now).disputeRate, 0, 'no job taken: no rate')
})

t.test('reviews of a provider or of a job, newest first', async t => {
  const older = carol.sign({ ...review('j1', alice.pubkey, 4, 5100, 'fine'), created_at: at })
  const newer = bob.sign({ ...review('j2', alice.pubkey, 2, 5100, '<b>slow</b>'), created_at: at + 5 })
  const other = carol.sign({ ...review('j3', bob.pubkey, 5, 5100), created_at: at })
  t.same(reviewsOf([older, other, newer], { about: alice.pubkey }), [
    { reviewer: bob.pubkey, about: alice.pubkey, job: 'j2', rating: 2, text: '<b>slow</b>' },
    { reviewer: carol.pubkey, about: alice.pubkey, job: 'j1', rating: 4, text: 'fine' },
  ])
  t.same(
    reviewsOf([older, other, newer], { job: 'j3' }).map(r => [r.reviewer, r.about]),
    [[carol.pubkey, bob.pubkey]],
    'or of one job',
  )
})

t.test('the relay’s rules in words, from the NIP-11 document the relay builds', async t => {
  const rulesOf = (flags: Record<string, string | boolean>) => {
    const cfg = loadConfig({ env: {}, flags })
    const doc = buildInfo(cfg, { pubkey: relay.pubkey, supportedNips: [1], version: '0', ...policyInfo(cfg) })
    return { cfg, rules: new Map(relayRules(doc)) }
  }
  const { cfg, rules } = rulesOf({
    'policies.kind_whitelist.kinds': '1,5000-5999',
    'policies.rate_limit.events_per_pubkey': '5000-5999:7,*:70',
    'policies.pow.rules': '5000-5999:10',
  })
  t.equal(rules.get('Kinds accepted'), '1, 5000-5999')
  t.equal(rules.get('Proof of work'), 'kinds 5000-5999: 10 bits')
  t.equal(rules.get('Events per author'), '7 a minute of kinds 5000-5999, 70 a minute of any other kind')
  t.equal(rules.get('Events per address'), '600 a minute of any kind')
  t.equal(rules.get('Reads per address'), '600 REQ or COUNT a minute')
  t.equal(rules.get('Jobs expire after'), duration(cfg.market.job_ttl))
  t.equal(rules.get('Escrow mints'), 'any mint the provider names')
  t.equal(rules.get('max limit'), String(cfg.limits.max_limit))

  const { rules: openRules } = rulesOf({ 'policies.open': true, 'market.enabled': false })
  t.equal(openRules.get('Kinds accepted'), 'every kind')
  t.equal(openRules.get('Rate limits'), 'none')
  t.equal(openRules.get('Proof of work'), 'none')
  t.notOk(openRules.has('Jobs expire after'), 'no escrow terms without the market')
  t.same([duration(59), duration(600), duration(7200), duration(3 * 86400)], ['59 s', '10 min', '2 h', '3 days'])
})

t.test('chart series: jobs requested per bucket by kind, the rest as other kinds, and sats paid', async t => {
  const whole = 472_224 * 3600
  const now = whole + 100
  const hour = 3600
  let n = 0
  const job = (kind: number, requestedAt: number, paid?: [number, number]) =>
    ledger(String(++n).padStart(64, '0'), now, [
      ['k', String(kind)],
      ['customer', carol.pubkey],
      ['state', paid ? 'paid' : 'open'],
      ['requested_at', String(requestedAt)],
      ...(paid
        ? [
            ['provider', alice.pubkey],
            ['paid', String(paid[0])],
            ['paid_at', String(paid[1])],
          ]
        : []),
    ])
  const jobs = jobRows(
    [
      job(5100, now - 10, [21_000, now - 5]),
      job(5100, now - hour - 1),
      job(5100, now - hour),
      job(5200, now - 2 * hour),
      job(5300, now - 2 * hour),
      job(5100, now - 30 * hour), // outside three hours
      job(5200, now - 50, [5_999, now - 2 * hour]),
    ],
    relay.pubkey,
  )
  const s = requestSeries(jobs, now, hour, 3, 2)
  t.same(s.starts, [whole - 2 * hour, whole - hour, whole])
  t.same(
    s.series.map(x => [x.label, x.values]),
    [
      ['kind 5100', [0, 2, 1]],
      ['kind 5200', [1, 0, 1]],
      ['other kinds', [1, 0, 0]],
    ],
    'the two most requested kinds, then the rest',
  )
  t.same(requestSeries(jobs, now, hour, 3).series.length, 3, 'no "other" series when every kind is shown')
  t.same(paidSeries(jobs, now, hour, 3).series, [{ label: 'sats paid', values: [5, 0, 21] }])
  t.same(requestSeries([], now, hour, 2), { starts: [whole - hour, whole], series: [] })
})

t.test('attestations of a provider: well-formed ones from other keys, newest first', async t => {
  const attest = (by: typeof alice, about: string, content: string, created_at: number) =>
    by.sign({
      kind: 30085,
      created_at,
      tags: [
        ['d', `${about}:x`],
        ['p', about],
      ],
      content,
    })
  const rows = attestationsOf(
    [
      attest(bob, alice.pubkey, JSON.stringify({ rating: 4, confidence: 0.5, context: 'nip90.5100' }), at),
      attest(carol, alice.pubkey, JSON.stringify({ rating: 1, confidence: 1 }), at + 1),
      attest(alice, alice.pubkey, JSON.stringify({ rating: 5, confidence: 1 }), at + 2),
      attest(carol, bob.pubkey, JSON.stringify({ rating: 5, confidence: 1 }), at + 3),
      attest(bob, alice.pubkey, 'not json', at + 4),
      attest(bob, alice.pubkey, JSON.stringify({ rating: '5', confidence: 1 }), at + 5),
    ],
    alice.pubkey,
  )
  t.same(rows, [
    { by: carol.pubkey, rating: 1, confidence: 1, context: '' },
    { by: bob.pubkey, rating: 4, confidence: 0.5, context: 'nip90.5100' },
  ])
})

t.test('a job’s words for a swarm’s pick, an escrow ruling and its spending, and a result’s size', async t => {
  const [swarmId, ruledId] = ['1', '2'].map(c => c.repeat(64))
  const rows = jobRows(
    [
      ledger(swarmId!, at, [
        ['k', '5118'],
        ['customer', carol.pubkey],
        ['state', 'paid'],
        ['submission', alice.pubkey, 'r1', 'winner'],
        ['submission', bob.pubkey, 'r2', 'rejected'],
      ]),
      ledger(ruledId!, at, [
        ['k', '5100'],
        ['customer', carol.pubkey],
        ['state', 'delivered'],
        ['provider', alice.pubkey],
        ['escrow', 'l', 'http://mint', '40', '0'],
        ['escrow_state', 'refunded'],
        ['ruling', 'refund', 'e'.repeat(64)],
        ['spent', 'refund', carol.pubkey],
      ]),
    ],
    relay.pubkey,
  )
  const name = (k: string) => (k === alice.pubkey ? 'Alice' : k === bob.pubkey ? 'Bob' : 'Carol')
  const story = (id: string) =>
    describeJob(
      rows.find(r => r.id === id)!,
      name,
    )
  t.match(story(swarmId!), [
    'Carol asked for a kind 5118 job.',
    'Alice submitted a result and was picked.',
    'Bob submitted a result, not picked.',
  ])
  t.match(
    story(ruledId!).join('\n'),
    '40 sats were locked in escrow at http://mint: refunded.\nThe relay ruled for the refund.\nThe escrow was taken back by the customer after its locktime.',
  )
  t.equal(resultFacts(alice.sign({ kind: 6100, tags: [], content: 'x'.repeat(1234) })), 'kind 6100, 1,234 characters')
})

t.test('a mirrored job says which upstreams it was seen on; a local one says nothing of it', async t => {
  const mirrored = ledger('m'.repeat(64), at, [
    ['k', '5100'],
    ['customer', carol.pubkey],
    ['state', 'delivered'],
    ['provider', alice.pubkey],
    ['seen_on', 'wss://one.example', 'wss://two.example'],
  ])
  const local = ledger('l'.repeat(64), at, [
    ['k', '5100'],
    ['customer', carol.pubkey],
    ['state', 'open'],
  ])
  const [a, b] = jobRows([mirrored, local], relay.pubkey).sort((x, y) => (x.id < y.id ? 1 : -1))
  t.same(a!.seenOn, ['wss://one.example', 'wss://two.example'])
  t.same(
    describeJob(a!, () => 'Alice'),
    [
      'Alice asked for a kind 5100 job.',
      'Alice took it.',
      'Seen on wss://one.example, wss://two.example.',
      'It is delivered now.',
    ],
  )
  t.same(b!.seenOn, [])
  t.notMatch(describeJob(b!, () => 'Carol').join('\n'), 'Seen on')
})
