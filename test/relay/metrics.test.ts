// GET /metrics (README "Metrics"): off by default, Prometheus text on the relay's port or a port of its own, and
// counters, gauges and histograms that move with the traffic a real client sends.
import t from 'tap'
import { connectFor, queryIds } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { request, result } from '../helpers/market.js'
import { freeLowPort } from '../helpers/ports.js'
import { startTestRelay } from '../helpers/relay.js'
import { sleep } from '../helpers/wait.js'

const httpBase = (url: string) => url.replace(/^ws:/, 'http:')

type Scrape = (name: string, labels?: Record<string, string>) => number | undefined

const key = (name: string, labels: string[]) => `${name}{${labels.sort().join(',')}}`

/** One scrape: the value of a series by name and labels, undefined when it is absent. */
async function scrape(base: string): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`)
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`)
  const series = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m) series.set(key(m[1]!, (m[2] ?? '').split(',').filter(Boolean)), Number(m[3]))
  }
  return (name, labels = {}) =>
    series.get(
      key(
        name,
        Object.entries(labels).map(([k, v]) => `${k}="${v}"`),
      ),
    )
}

/** Scrapes until `cond` holds (a reply goes out before its counter is read, so a test waits rather than reads once). */
async function scrapeWhen(base: string, cond: (m: Scrape) => boolean, what: string): Promise<Scrape> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const m = await scrape(base)
    if (cond(m)) return m
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

t.test('without metrics.enabled, GET /metrics is not served', async t => {
  const { url } = await startTestRelay(t)
  const res = await fetch(`${httpBase(url)}/metrics`)
  t.equal(res.status, 404)
  t.notMatch(await res.text(), /agora_/)
})

t.test('the counters, gauges and histograms move with the traffic', async t => {
  // The kind whitelist stays on (kind 1 is not in it); the rules that would get in the way are off.
  const { url } = await startTestRelay(t, {
    'metrics.enabled': true,
    'policies.open': false,
    'policies.pow.enabled': false,
    'policies.rate_limit.enabled': false,
  })
  const base = httpBase(url)
  const res = await fetch(`${base}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const before = await scrape(base)
  t.equal(before('agora_events_received_total'), 0, 'nothing received yet')
  t.equal(before('agora_connections'), 0)

  const c = await connectFor(t, url)
  const who = signer()
  await c.req('live', { kinds: [0] })
  const profile = who.sign({ kind: 0, content: '{}' })
  t.same(await c.publish(profile), ['OK', profile.id, true, ''])
  const note = who.sign({ kind: 1, content: 'hello' })
  const ok = await c.publish(note)
  t.equal(ok[2], false)
  t.match(String(ok[3]), /^blocked: kind 1 is not accepted here/)
  t.same(await queryIds(c, { ids: [note.id] }), [], 'the refused event is not stored')
  const closed = await c.req('bad', { kinds: ['one'] })
  t.match(String(closed.closed?.[2]), /^invalid: /, 'a bad filter is refused with CLOSED')

  const m = await scrapeWhen(
    base,
    s =>
      s('agora_events_received_total') === 2 && s('agora_refusals_total', { prefix: 'invalid', reply: 'closed' }) === 1,
    'the counters',
  )
  t.equal(m('agora_events_accepted_total', { class: 'replaceable' }), 1, 'the profile, accepted')
  t.equal(m('agora_events_accepted_total', { class: 'regular' }), 0)
  t.equal(m('agora_events_refused_total', { prefix: 'blocked', class: 'regular' }), 1, 'the note, blocked')
  t.equal(m('agora_refusals_total', { prefix: 'blocked', reply: 'ok' }), 1)
  t.equal(m('agora_refusals_total', { prefix: 'invalid', reply: 'closed' }), 1, 'the bad filter, as CLOSED')
  t.equal(m('agora_fanout_deliveries_total'), 1, 'the profile, delivered to the live subscription')
  t.equal(m('agora_connections'), 1)
  t.equal(m('agora_subscriptions'), 2, "the live one and the query's (the refused one never opened)")
  t.ok(m('agora_query_seconds_count', { path: 'kinds' })! >= 1, 'the REQ by kinds, timed by its path')
  t.ok(m('agora_query_seconds_count', { path: 'ids' })! >= 1, 'the REQ by id')
  t.ok(m('agora_writer_commit_seconds_count')! >= 1, 'the commit, timed')
  t.ok(m('agora_writer_batch_size_sum')! >= 1, 'its batch size')
  t.equal(m('agora_verify_seconds_count'), 1, "the profile's signature, timed (policies refuse before verifying)")
  t.ok(m('agora_wal_bytes')! > 0, 'the WAL file has a size')
  t.ok(m('process_resident_memory_bytes')! > 0)

  c.close()
  await scrapeWhen(base, s => s('agora_connections') === 0 && s('agora_subscriptions') === 0, 'the closed connection')
  t.pass('a closed connection leaves the gauges')
})

t.test('the market gauges count live jobs, providers online and milestones', async t => {
  const { url } = await startTestRelay(t, {
    'metrics.enabled': true,
    'market.enabled': true,
    'market.publish_interval': 50,
  })
  const base = httpBase(url)
  const c = await connectFor(t, url)
  const [customer, provider] = [signer(), signer()]
  t.equal((await scrape(base))('agora_market_jobs', { state: 'open' }), 0, 'no job yet')
  const req = request(customer, { bid: 1_000 })
  t.same(await c.publish(req), ['OK', req.id, true, ''])
  const posted = await scrapeWhen(base, s => s('agora_market_jobs', { state: 'open' }) === 1, 'the open job')
  t.equal(posted('agora_market_jobs', { state: 'locked' }), 0)
  t.equal(posted('agora_market_jobs', { state: 'judging' }), 0)
  t.equal(posted('agora_market_escrows', { state: 'held' }), 0)
  t.equal(posted('agora_market_providers_online'), 0)

  const beat = provider.sign({
    kind: 30333,
    tags: [
      ['d', 'node-1'],
      ['status', 'online'],
      ['k', '5100'],
    ],
  })
  t.same(await c.publish(beat), ['OK', beat.id, true, ''])
  const res = result(provider, req)
  t.same(await c.publish(res), ['OK', res.id, true, ''])
  const delivered = await scrapeWhen(
    base,
    s =>
      s('agora_market_jobs', { state: 'open' }) === 0 &&
      s('agora_market_milestones_total', { milestone: 'delivered' }) === 1,
    'the delivery',
  )
  t.equal(delivered('agora_market_providers_online'), 1, 'the provider, by its heartbeat')
  t.equal(delivered('agora_market_milestones_total', { milestone: 'flagged' }), 0)
  t.ok(delivered('agora_market_publisher_lag_seconds')! >= 0, 'the publisher answers for its lag')
  t.equal(delivered('agora_events_accepted_total', { class: 'market' }), 3, 'request, heartbeat and result')
})

t.test('metrics.port serves /metrics on a listener of its own, and not on the relay port', async t => {
  const port = await freeLowPort()
  const { url } = await startTestRelay(t, { 'metrics.enabled': true, 'metrics.port': port })
  t.equal((await fetch(`${httpBase(url)}/metrics`)).status, 404, 'not on the relay port')
  const own = `http://127.0.0.1:${port}`
  const m = await scrape(own)
  t.equal(m('agora_connections'), 0)
  t.equal((await fetch(`${own}/other`)).status, 404, 'nothing else there')
  await connectFor(t, url)
  await scrapeWhen(own, s => s('agora_connections') === 1, 'the connection, seen on the own port')
})

t.test('with the writer and readers on threads, their timings still reach the histograms', async t => {
  const { url } = await startTestRelay(t, {
    'metrics.enabled': true,
    'store.writer_thread': true,
    'store.reader_threads': 1,
  })
  const base = httpBase(url)
  const c = await connectFor(t, url)
  const e = signer().sign({ content: 'x' })
  t.same(await c.publish(e), ['OK', e.id, true, ''])
  t.same(await queryIds(c, { authors: [e.pubkey] }), [e.id])
  const m = await scrapeWhen(
    base,
    s => s('agora_writer_commit_seconds_count')! >= 1 && s('agora_query_seconds_count', { path: 'authors' })! >= 1,
    'the timings from the threads',
  )
  t.ok(m('agora_writer_batch_size_count')! >= 1, 'the batch size came back with the outcome')
})

t.test('a mirrored upstream’s events are counted by outcome', async t => {
  const up = await startTestRelay(t, { 'market.enabled': false })
  const { url } = await startTestRelay(t, {
    'metrics.enabled': true,
    // Kind 1 is mirrored, and refused here by the kind whitelist.
    mirror: JSON.stringify([{ url: up.url, kinds: ['1984', '1'] }]),
    'policies.open': false,
    'policies.kind_whitelist.kinds': ['1984'],
  })
  const base = httpBase(url)
  const c = await connectFor(t, up.url)
  const who = signer()
  const kept = who.sign({ kind: 1984, tags: [['p', signer().pubkey, 'spam']] })
  const refused = who.sign({ kind: 1 })
  for (const e of [kept, refused]) t.same(await c.publish(e), ['OK', e.id, true, ''])
  const m = await scrapeWhen(
    base,
    s =>
      s('agora_mirror_events_total', { upstream: up.url, outcome: 'stored' }) === 1 &&
      s('agora_mirror_events_total', { upstream: up.url, outcome: 'refused' })! >= 1,
    'one stored, one refused by the kind whitelist',
  )
  // The live subscription and the catch-up at connect may both bring an event: the second copy is a duplicate.
  t.ok(m('agora_mirror_events_total', { upstream: up.url, outcome: 'duplicates' })! <= 1)
  t.equal(m('agora_mirror_events_total', { upstream: up.url, outcome: 'garbage' }), 0)
  t.equal(m('agora_mirror_cutoffs_total', { upstream: up.url }), 0)
})
