// The job state machine over WebSocket (DESIGN §7.2), with nostr-tools agents: every transition checks its
// sender, refusals say which rule, refused events are not stored, and a rebuild equals the live tables.
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { databaseFile } from '../../relay/app.js'
import { MARKET_TABLES } from '../../market/schema.js'
import { connectFor, queryIds, type RawClient } from '../helpers/client.js'
import { ensureBuilt, runCli } from '../helpers/cli.js'
import { now, signer, type Signer } from '../helpers/events.js'
import { startLnurlServer } from '../helpers/lnurl.js'
import { accepted, feedback, refused as refusedAs, request, result } from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'
import { makeZap } from '../helpers/zaps.js'

type Ctx = { c: RawClient; dataDir: string; close(): Promise<void> }

async function market(
  t: Parameters<typeof startTestRelay>[0],
  flags: Parameters<typeof startTestRelay>[1] = {},
): Promise<Ctx> {
  const r = await startTestRelay(t, { 'market.enabled': true, ...flags })
  return { c: await connectFor(t, r.url), dataDir: r.dataDir, close: () => r.relay.close() }
}

/** The market's row for a job, read from the store beside the running relay. */
function job(dataDir: string, id: string) {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    return db.prepare('SELECT state, provider, result_id, amount_msats FROM market_jobs WHERE id = ?').get(id) as
      { state: string; provider: string | null; result_id: string | null; amount_msats: number | null } | undefined
  } finally {
    db.close()
  }
}

/** Who quoted a price for the job (feedback with an amount, from a provider the job is open to). */
function quotesFrom(dataDir: string, jobId: string): string[] {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    return db
      .prepare('SELECT q.provider FROM market_quotes q JOIN market_jobs j ON j.seq = q.job_seq WHERE j.id = ?')
      .pluck()
      .all(jobId) as string[]
  } finally {
    db.close()
  }
}

/** Refused with a `restricted:` reason matching `reason`, and not stored. */
const refused = (t: Test, c: RawClient, e: { id: string }, reason: RegExp, what: string) =>
  refusedAs(t, c, e, 'restricted', reason, what)

t.test('request -> processing -> result: the job is delivered by the provider that sent the result', async t => {
  const { c, dataDir } = await market(t)
  const [customer, provider] = [signer(), signer()]
  const req = request(customer, { bid: 50_000 })
  await accepted(t, c, req, 'the request')
  t.match(job(dataDir, req.id), { state: 'open', provider: null })
  await accepted(t, c, feedback(provider, req, 'processing'), 'processing feedback')
  t.same(quotesFrom(dataDir, req.id), [], 'feedback without an amount is no quote')
  await accepted(t, c, feedback(provider, req, 'payment-required', [['amount', '45000']]), 'a quote')
  t.same(quotesFrom(dataDir, req.id), [provider.pubkey])
  const res = result(provider, req, { amount: 40_000, request: JSON.stringify(req) })
  await accepted(t, c, res, 'the result')
  t.same(job(dataDir, req.id), {
    state: 'delivered',
    provider: provider.pubkey,
    result_id: res.id,
    amount_msats: 40_000,
  })
})

t.test('the seed failures of job handling are refused or have no effect', async t => {
  const { c, dataDir } = await market(t)
  const [customer, provider, stranger] = [signer(), signer(), signer()]

  const direct = request(customer, { bid: 10_000, targets: [provider.pubkey] })
  await accepted(t, c, direct, 'a direct request')
  await accepted(t, c, feedback(stranger, direct, 'success'), "a stranger's success is stored")
  await accepted(t, c, feedback(stranger, direct, 'error'), "a stranger's error is stored")
  await accepted(
    t,
    c,
    feedback(stranger, direct, 'payment-required', [['amount', '1000']]),
    "a stranger's quote is stored",
  )
  t.match(job(dataDir, direct.id), { state: 'open', provider: null }, 'but none moves the job')
  t.same(quotesFrom(dataDir, direct.id), [], 'nor counts as a quote')
  await refused(
    t,
    c,
    result(stranger, direct),
    /direct request to other providers/,
    "a stranger's result to a direct request",
  )
  await refused(
    t,
    c,
    result(provider, direct, { amount: 10_001 }),
    /over the job's bid of 10000 msats/,
    'an amount over the bid',
  )
  await refused(t, c, result(provider, direct, { kind: 6200 }), /must be kind 6100/, 'a result of the wrong kind')
  await refused(t, c, result(customer, direct), /cannot deliver its own job/, 'the customer delivering its own job')
  await refused(
    t,
    c,
    result(provider, direct, { request: JSON.stringify(request(customer)) }),
    /request tag is not this job's request/,
    'a result embedding another request',
  )
  await refused(
    t,
    c,
    result(provider, { id: 'ab'.repeat(32), pubkey: customer.pubkey, kind: 5100 }),
    /unknown job/,
    'a result to an unknown job',
  )

  const first = result(provider, direct, { amount: 10_000 })
  await accepted(t, c, first, 'the targeted provider delivers')
  await refused(t, c, result(provider, direct, { amount: 1 }), /already delivered/, 'a second result')
  t.match(
    job(dataDir, direct.id),
    { state: 'delivered', provider: provider.pubkey, result_id: first.id },
    'who delivered is unchanged',
  )
  await refused(
    t,
    c,
    customer.sign({ kind: 5, tags: [['e', direct.id]] }),
    /was delivered: its request stays/,
    "deleting a delivered job's request",
  )
  await refused(
    t,
    c,
    provider.sign({ kind: 5, tags: [['e', first.id]] }),
    /stays as the record/,
    'deleting the delivering result',
  )
  t.same((await queryIds(c, { ids: [direct.id, first.id] })).sort(), [direct.id, first.id].sort(), 'both stay served')
})

t.test("only the customer's kind 5 cancels an open job, and a cancelled job takes no results", async t => {
  const { c, dataDir } = await market(t)
  const [customer, provider, stranger] = [signer(), signer(), signer()]
  const req = request(customer, { bid: 5_000 })
  await accepted(t, c, req, 'the request')
  const quote = feedback(provider, req, 'payment-required', [['amount', '4000']])
  await accepted(t, c, quote, "the provider's quote")
  t.same(quotesFrom(dataDir, req.id), [provider.pubkey])
  await accepted(t, c, provider.sign({ kind: 5, tags: [['e', quote.id]] }), 'and its withdrawal')
  t.same(quotesFrom(dataDir, req.id), [], 'a withdrawn quote no longer counts')
  await accepted(t, c, stranger.sign({ kind: 5, tags: [['e', req.id]] }), "a stranger's deletion is stored")
  t.match(job(dataDir, req.id), { state: 'open' }, 'and cancels nothing')
  await accepted(t, c, customer.sign({ kind: 5, tags: [['e', req.id]] }), "the customer's deletion")
  t.equal(job(dataDir, req.id), undefined, 'cancels the job')
  await refused(
    t,
    c,
    result(provider, req, { request: JSON.stringify(req) }),
    /cancelled by its customer/,
    'a result after the cancel',
  )
})

t.test(
  'agora market rebuild reproduces the live market tables, standing to the bit, after a random scenario',
  async t => {
    ensureBuilt()
    // Zap receipts are checked against an LNURL server on loopback, named by the providers' handlers.
    const lnurl = await startLnurlServer()
    t.teardown(() => lnurl.close())
    const customers = Array.from({ length: 4 }, () => signer())
    const providers = Array.from({ length: 4 }, () => signer())
    const strangers = Array.from({ length: 3 }, () => signer())
    // Standing flows from one customer and one provider, through trust, paid jobs and good reviews.
    const trustRoots = [customers[0]!.pubkey, providers[1]!.pubkey]
    const { c, dataDir, close } = await market(t, { 'market.allow_loopback': true, 'market.trust_roots': trustRoots })
    const lud16 = new Map(
      providers.map((p, i) => {
        lnurl.setUser(`p${i}`, {})
        return [p.pubkey, lnurl.address(`p${i}`)]
      }),
    )
    let seed = 7
    // A small LCG, read from its high bits (its low bits repeat quickly).
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return Math.floor((seed / 2 ** 31) * n)
    }
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!
    const jobs: ReturnType<typeof request>[] = []
    // Accepted results (what zaps pay) and reports (what deletions withdraw).
    const results: { id: string; provider: string; customer: string }[] = []
    const reports: { id: string; by: Signer }[] = []
    const trusts: { id: string; by: Signer }[] = []
    const paymentHashes: string[] = []
    const keys = new Map([...customers, ...providers, ...strangers].map(k => [k.pubkey, k]))
    const keyOf = (pubkey: string) => keys.get(pubkey)!
    const at = now()
    for (let i = 0; i < 400; i++) {
      const roll = rand(32)
      const j = jobs.length ? jobs[rand(jobs.length)]! : undefined
      const p = providers[rand(providers.length)]!
      let e
      if (!j || roll < 8) {
        const cust = customers[rand(customers.length)]!
        e = request(cust, { bid: 1000 * (1 + rand(10)), targets: rand(3) === 0 ? [p.pubkey] : [] })
        jobs.push(e)
      } else if (roll < 12)
        e = feedback(rand(4) === 0 ? customers[0]! : p, j, ['processing', 'error', 'success'][rand(3)]!)
      else if (roll < 17) e = result(p, j, { amount: 1000 * (1 + rand(12)) })
      else if (roll < 18) {
        // A job from another relay, delivered with its embedded request.
        const away = request(customers[rand(customers.length)]!, { bid: 5000 })
        e = result(p, away, { amount: 1000 * (1 + rand(6)), request: JSON.stringify(away) })
      } else if (roll < 19) e = customers[rand(customers.length)]!.sign({ kind: 5, tags: [['e', j.id]] })
      else if (roll < 22) {
        if (rand(3) > 0)
          // Announcements on two addresses per provider, so newer versions replace older ones; a handler may
          // name the provider's lightning address (on the loopback LNURL server) or none.
          e = p.sign({
            kind: rand(2) ? 30333 : 31990,
            created_at: at - 400 + i,
            tags: [
              ['d', `a${rand(2)}`],
              ['k', String(5000 + rand(3) * 100)],
              ['capacity', String(rand(5))],
            ],
            content: rand(2) ? JSON.stringify({ name: 'p', lud16: lud16.get(p.pubkey) }) : '',
          })
        else if (rand(2) === 0)
          e = p.sign({ kind: 5, tags: [['a', `${rand(2) ? 30333 : 31990}:${p.pubkey}:a${rand(2)}`]] })
        else e = p.sign({ kind: 5, tags: [['e', j.id]], created_at: at })
      } else if (roll < 25 && results.length > 0) {
        // A zap receipt to a delivered result, mostly from its customer: valid (signed by the provider's LNURL
        // server, it counts while a handler of the provider names that server), forged (signed by another key)
        // or reusing a payment hash (neither may count).
        const r = results[rand(results.length)]!
        const sender = rand(4) === 0 ? customers[rand(customers.length)]! : keyOf(r.customer)
        const zap = { relayPubkey: r.provider, sender, msats: 1000 * (1 + rand(12)), e: r.id }
        const sort = rand(8)
        if (sort === 0) e = makeZap({ ...zap, lnurlSk: strangers[0]!.sk }).receipt
        else if (sort === 1 && paymentHashes.length > 0)
          e = lnurl.zapFor({ ...zap, paymentHash: pick(paymentHashes) }).receipt
        else {
          const made = lnurl.zapFor(zap)
          paymentHashes.push(made.paymentHash)
          e = made.receipt
        }
      } else if (roll < 27) {
        // A report about a provider, by a customer (it counts if that customer had a job delivered by it) or
        // by a stranger (it never counts).
        const by = rand(3) === 0 ? pick(strangers) : pick(customers)
        e = by.sign({ kind: 1984, tags: [['p', p.pubkey, pick(['spam', 'other'])]], content: `report ${i}` })
        reports.push({ id: e.id, by })
      } else if (roll < 28) {
        // An attestation, now and then older than the one stored at its address (refused) or about oneself
        // (refused); the newer one at an address replaces the older.
        const by = pick([...customers, ...strangers, ...providers])
        const context = `nip90.${pick(['5100', '5200'])}`
        e = by.sign({
          kind: 30085,
          created_at: at - rand(300),
          tags: [
            ['d', `${p.pubkey}:${context}`],
            ['p', p.pubkey],
            ['expiration', String(at + 90 * 86400)],
          ],
          content: JSON.stringify({ subject: p.pubkey, rating: 1 + rand(5), confidence: rand(11) / 10, context }),
        })
      } else if (roll >= 29) {
        // A DVM trust declaration by anyone in anyone else, or its author's revocation of one.
        const by = pick([...customers, ...providers, ...strangers])
        const about = pick([...customers, ...providers, ...strangers].filter(k => k !== by))
        if (roll === 31 && trusts.length > 0) {
          const old = pick(trusts)
          e = old.by.sign({ kind: 5, tags: [['e', old.id]] })
        } else {
          e = by.sign({
            kind: 30382,
            tags: [
              ['d', about.pubkey],
              ['p', about.pubkey],
              ['assertion', 'dvm-provider'],
            ],
          })
          trusts.push({ id: e.id, by })
        }
      } else if (reports.length > 0) {
        // A report withdrawn by its author, or a stranger's deletion of it (no effect).
        const r = pick(reports)
        e = (rand(4) === 0 ? pick(strangers) : r.by).sign({ kind: 5, tags: [['e', r.id]] })
      } else continue
      const ok = await c.publish(e)
      if (ok[2] === true && e.kind >= 6000 && e.kind < 7000)
        results.push({ id: e.id, provider: e.pubkey, customer: e.tags.find(x => x[0] === 'p')![1]! })
    }
    // Reviews of some delivered jobs, by either party (newer ones replace older ones).
    const delivered = (() => {
      const db = new Database(databaseFile(dataDir), { readonly: true })
      try {
        return db
          .prepare("SELECT id, customer, provider FROM market_jobs WHERE state IN ('delivered', 'paid')")
          .all() as {
          id: string
          customer: string
          provider: string
        }[]
      } finally {
        db.close()
      }
    })()
    for (const [n, d] of delivered.slice(0, 12).entries()) {
      const [by, about] = n % 2 ? [d.provider, d.customer] : [d.customer, d.provider]
      for (const rating of ['3', String(1 + rand(5))])
        await c.publish(
          keyOf(by).sign({
            kind: 31117,
            created_at: at + Number(rating),
            tags: [
              ['d', d.id],
              ['p', about],
              ['rating', rating],
            ],
          }),
        )
    }
    await close()
    const snapshot = () => {
      const db = new Database(databaseFile(dataDir), { readonly: true })
      try {
        return Object.fromEntries(
          MARKET_TABLES.map(table => {
            const columns = (db.pragma(`table_info(${table})`) as unknown[]).length
            const order = [1, 2, 3].slice(0, columns).join(', ')
            return [table, db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()]
          }),
        ) as Record<(typeof MARKET_TABLES)[number], unknown[]>
      } finally {
        db.close()
      }
    }
    const live = snapshot()
    const liveJobs = live.market_jobs as { state: string }[]
    t.ok(liveJobs.length > 10, `the scenario made jobs (${liveJobs.length})`)
    t.ok(
      liveJobs.some(r => r.state === 'delivered'),
      'and delivered some',
    )
    t.ok(
      liveJobs.some(r => r.state === 'paid'),
      'and some were paid',
    )
    const [handlers, beats] = [live.market_handlers.length, live.market_heartbeats.length]
    t.ok(handlers > 0 && beats > 0, `and registered providers (${handlers}, ${beats})`)
    t.ok(live.market_reviews.length > 0, `and recorded reviews (${live.market_reviews.length})`)
    t.ok(live.market_payments.length > 0, `and payments (${live.market_payments.length})`)
    t.ok(live.market_reports.length > 0, `and counted reports (${live.market_reports.length})`)
    t.ok(live.market_attestations.length > 0, `and attestations (${live.market_attestations.length})`)
    t.ok(live.market_trust.length > 0, `and trust declarations (${live.market_trust.length})`)
    const standing = live.market_standing as { pubkey: string; weight: number }[]
    t.ok(
      standing.some(s => !trustRoots.includes(s.pubkey) && s.weight > 0),
      `and standing beyond the roots (${standing.length} keys)`,
    )
    t.ok(
      (live.market_reputation as { score: number }[]).some(r => r.score > 0),
      'and positive scores',
    )
    // The rebuild computes standing with the same roots and the same relay key (in the data dir).
    const r = await runCli(['market', 'rebuild', '--data', dataDir], {
      env: { AGORA_MARKET_TRUST_ROOTS: trustRoots.join(',') },
    })
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, /market rebuilt from \d+ stored events/)
    const rebuilt = snapshot()
    for (const table of MARKET_TABLES)
      t.strictSame(rebuilt[table], live[table], `${table}: the rebuilt rows equal the live ones`)
  },
)

t.test('a result that embeds its signed request delivers a job posted on another relay', async t => {
  const { c, dataDir } = await market(t)
  const [customer, provider, stranger] = [signer(), signer(), signer()]
  const elsewhere = request(customer, { bid: 3_000 }) // never published here
  // Someone else's deletion of that id does not stand for the customer's cancel.
  await accepted(t, c, stranger.sign({ kind: 5, tags: [['e', elsewhere.id]] }), "a stranger's deletion of the id")
  const res = result(provider, elsewhere, { amount: 3_000, request: JSON.stringify(elsewhere) })
  await accepted(t, c, res, 'the result with the embedded request')
  t.same(job(dataDir, elsewhere.id), {
    state: 'delivered',
    provider: provider.pubkey,
    result_id: res.id,
    amount_msats: 3_000,
  })

  const forged = { ...request(customer, { bid: 9_000 }) }
  forged.sig = forged.sig.replace(/^./, forged.sig[0] === 'a' ? 'b' : 'a')
  const bad = await c.publish(result(provider, forged, { request: JSON.stringify(forged) }))
  t.equal(bad[2], false)
  t.equal(bad[3], 'invalid: the embedded request: signature does not verify')
  t.equal(job(dataDir, forged.id), undefined, 'no job from a forged request')

  const wrongKind = request(customer, { kind: 5300 })
  const mismatch = await c.publish(result(provider, wrongKind, { kind: 6100, request: JSON.stringify(wrongKind) }))
  t.equal(mismatch[3], 'invalid: the embedded request must be kind 5100 for a kind 6100 result')
})

t.test(
  'a result embedding a request published here: its copy must match, its signature is not checked again',
  async t => {
    const { c, dataDir } = await market(t)
    const [customer, provider] = [signer(), signer()]
    const req = request(customer, { bid: 4_000 })
    await accepted(t, c, req, 'the request')
    const tampered = JSON.stringify({ ...req, tags: [['bid', '400000']] })
    const bad = await c.publish(result(provider, req, { amount: 4_000, request: tampered }))
    t.equal(bad[2], false)
    t.equal(bad[3], 'invalid: the embedded request: id does not match its content')
    t.equal(job(dataDir, req.id)?.state, 'open', 'the job is not moved by the refused result')
    const res = result(provider, req, { amount: 4_000, request: JSON.stringify(req) })
    await accepted(t, c, res, 'the result with a faithful copy')
    t.same(job(dataDir, req.id), {
      state: 'delivered',
      provider: provider.pubkey,
      result_id: res.id,
      amount_msats: 4_000,
    })
  },
)

t.test('providers announce with 31990 and 30333; replacement and deletion follow the events', async t => {
  const { c, dataDir } = await market(t)
  const provider = signer()
  const at = now()
  const handlers = () => {
    const db = new Database(databaseFile(dataDir), { readonly: true })
    try {
      return db.prepare('SELECT d, kinds, name, lud16 FROM market_handlers WHERE pubkey = ?').all(provider.pubkey)
    } finally {
      db.close()
    }
  }
  const info = (created_at: number, kinds: string[], content: Record<string, unknown>) =>
    provider.sign({
      kind: 31990,
      created_at,
      tags: [['d', 'summariser'], ...kinds.map(k => ['k', k])],
      content: JSON.stringify(content),
    })
  await accepted(t, c, info(at - 10, ['5100'], { name: 'sum', lightning_address: 'sum@example.com' }), 'handler info')
  t.same(
    handlers(),
    [{ d: 'summariser', kinds: '[5100]', name: 'sum', lud16: 'sum@example.com' }],
    'the seed spelling of lud16 counts',
  )
  await accepted(t, c, info(at, ['5100', '5300'], { name: 'sum', lud16: 'sum@example.org' }), 'a newer version')
  t.same(
    handlers(),
    [{ d: 'summariser', kinds: '[5100,5300]', name: 'sum', lud16: 'sum@example.org' }],
    'replaces the row',
  )
  await accepted(t, c, provider.sign({ kind: 5, tags: [['a', `31990:${provider.pubkey}:summariser`]] }), 'its deletion')
  t.same(handlers(), [], 'removes it')

  // A heartbeat dated 10 minutes ahead still counts from when the relay received it.
  const beat = provider.sign({
    kind: 30333,
    created_at: at + 600,
    tags: [
      ['d', 'node-1'],
      ['status', 'online'],
      ['capacity', '3'],
      ['k', '5100'],
      ['price', '5100:10'],
    ],
  })
  await accepted(t, c, beat, 'a future-dated heartbeat')
  const db = new Database(databaseFile(dataDir), { readonly: true })
  t.teardown(() => db.close())
  const row = db
    .prepare(
      'SELECT b.received_at, b.capacity, b.kinds FROM market_heartbeats b JOIN events e ON e.seq = b.seq WHERE e.id = ?',
    )
    .get(beat.id) as {
    received_at: number
    capacity: number
    kinds: string
  }
  t.ok(
    Math.abs(row.received_at - now()) <= 5,
    `received_at is the relay's clock (${row.received_at}), not created_at (${at + 600})`,
  )
  t.same([row.capacity, row.kinds], [3, '[5100]'])
  const beats = () => db.prepare('SELECT capacity FROM market_heartbeats').pluck().all()
  const newer = provider.sign({
    kind: 30333,
    created_at: at + 601,
    tags: [
      ['d', 'node-1'],
      ['capacity', '1'],
    ],
  })
  await accepted(t, c, newer, 'a newer heartbeat at the same address')
  t.same(beats(), [1], 'replaces the row')
  await accepted(t, c, provider.sign({ kind: 5, tags: [['e', newer.id]] }), 'its deletion')
  t.same(beats(), [], 'removes it')
})

t.test('only the two parties of a delivered job review it, each the other, rating 1-5', async t => {
  const { c, dataDir } = await market(t)
  const [customer, provider, stranger] = [signer(), signer(), signer()]
  const req = request(customer, { bid: 2_000 })
  await accepted(t, c, req, 'the request')
  const review = (who: Signer, about: string, rating: string, extra: string[][] = []) =>
    who.sign({ kind: 31117, tags: [['d', req.id], ['p', about], ['rating', rating], ['k', '5100'], ...extra] })
  await refused(
    t,
    c,
    review(customer, provider.pubkey, '5'),
    /only a delivered job can be reviewed/,
    'a review before delivery',
  )
  await accepted(t, c, result(provider, req), 'the result')

  await refused(
    t,
    c,
    review(stranger, provider.pubkey, '1'),
    /only the customer and the provider/,
    "a stranger's review",
  )
  await refused(t, c, review(customer, stranger.pubkey, '1'), /about the other party/, 'a review of someone else')
  const reviews = () => {
    const db = new Database(databaseFile(dataDir), { readonly: true })
    try {
      return db.prepare('SELECT reviewer, reviewed, rating, role FROM market_reviews ORDER BY role').all()
    } finally {
      db.close()
    }
  }
  for (const bad of ['0', '6', '4.5', 'five']) {
    const ok = await c.publish(review(customer, provider.pubkey, bad))
    t.same([ok[2], ok[3]], [false, 'invalid: a review needs a rating tag with an integer from 1 to 5'], `rating ${bad}`)
  }
  const wrongRole = await c.publish(review(customer, provider.pubkey, '4', [['role', 'provider']]))
  t.equal(wrongRole[3], "invalid: the reviewer is the job's customer, not its provider")
  t.same(reviews(), [], 'nothing refused was recorded')

  await accepted(t, c, review(customer, provider.pubkey, '2'), "the customer's review")
  // The seed's agents send `kind` instead of `k`; the role is inferred when missing.
  await accepted(
    t,
    c,
    provider.sign({
      kind: 31117,
      tags: [
        ['d', req.id],
        ['p', customer.pubkey],
        ['rating', '5'],
        ['kind', '5100'],
      ],
    }),
    "the provider's review in the seed spelling",
  )
  await accepted(
    t,
    c,
    customer.sign({
      kind: 31117,
      created_at: now() + 1,
      tags: [
        ['d', req.id],
        ['p', provider.pubkey],
        ['rating', '4'],
      ],
    }),
    'a newer review by the customer',
  )
  t.same(reviews(), [
    { reviewer: customer.pubkey, reviewed: provider.pubkey, rating: 4, role: 'customer' },
    { reviewer: provider.pubkey, reviewed: customer.pubkey, rating: 5, role: 'provider' },
  ])
})

t.test('DVM trust counts once per distinct truster, never for oneself, and goes with its event', async t => {
  const { c, dataDir } = await market(t)
  const [provider, a, b] = [signer(), signer(), signer()]
  const trust = (who: Signer, about: string, assertion = 'dvm-provider', created_at = now()) =>
    who.sign({
      kind: 30382,
      created_at,
      tags: [
        ['d', about],
        ['p', about],
        ['assertion', assertion],
      ],
    })
  const trusters = () => {
    const db = new Database(databaseFile(dataDir), { readonly: true })
    try {
      return (
        db.prepare('SELECT truster FROM market_trust WHERE trusted = ?').pluck().all(provider.pubkey) as string[]
      ).sort()
    } finally {
      db.close()
    }
  }
  await refused(t, c, trust(provider, provider.pubkey), /cannot declare trust in itself/, 'self-trust')
  await accepted(t, c, trust(a, provider.pubkey, 'trusted', now() - 5), "a's trust")
  await accepted(t, c, trust(a, provider.pubkey, 'trusted_dvm'), "a's newer trust, replacing it")
  await accepted(t, c, trust(b, provider.pubkey), "b's trust")
  t.same(trusters(), [a.pubkey, b.pubkey].sort(), 'two distinct trusters')
  await accepted(
    t,
    c,
    a.sign({
      kind: 30382,
      created_at: now() + 1,
      tags: [
        ['d', provider.pubkey],
        ['p', provider.pubkey],
        ['rank', '90'],
      ],
    }),
    'a NIP-85 assertion of another sort',
  )
  t.same(trusters(), [b.pubkey], "a's newer 30382 of another sort replaced its DVM trust")
  await accepted(t, c, b.sign({ kind: 5, tags: [['a', `30382:${b.pubkey}:${provider.pubkey}`]] }), "b's revocation")
  t.same(trusters(), [], "b's deletion revoked the last one")
})
