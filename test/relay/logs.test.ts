// What the relay logs as it runs (README "Logs"): a summary every log.summary_interval (connections, refusals by
// prefix, market milestones), a few sampled refusals, a line per delivered job, slow queries and commits; never
// event content at info. The relay logs to a pino logger the test hands it, writing JSON lines it captures.
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { startRelay } from '../../relay/app.js'
import { connectFor } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { outputWhen, report, request, result, trust } from '../helpers/market.js'
import { tempDir, testConfig } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

type Line = { level: number; component?: string; msg: string; [k: string]: unknown }

const INFO = 30
const WARN = 40
const SECRET = 'SECRET-CONTENT-never-logged'

/** A relay logging at info, once a second, to lines the test reads. */
async function loggedRelay(t: Test, flags: Record<string, string | number | boolean> = {}) {
  const raw: string[] = []
  const lines: Line[] = []
  const write = (s: string) => {
    raw.push(s)
    lines.push(JSON.parse(s) as Line)
  }
  const log = pino({ level: 'info', base: undefined }, { write })
  const cfg = testConfig(tempDir(t), { 'log.level': 'info', 'log.summary_interval': 1, ...flags })
  const relay = await startRelay(cfg, undefined, log)
  t.teardown(() => relay.close())
  // Every record as written, to prove what is never in any of them.
  return { relay, lines, text: () => raw.join('') }
}

const find = (lines: Line[], re: RegExp) => lines.find(l => re.test(l.msg))

t.test('refusals are summarised by prefix, a few sampled, and no event content is logged at info', async t => {
  // The kind whitelist stays on (kind 1 is not in it); the rules that would get in the way are off.
  const { relay, lines, text } = await loggedRelay(t, {
    'policies.open': false,
    'policies.pow.enabled': false,
    'policies.rate_limit.enabled': false,
  })
  const c = await connectFor(t, relay.url)
  const who = signer()
  for (let i = 0; i < 5; i++) {
    const ok = await c.publish(who.sign({ kind: 1, content: `${SECRET} ${i}` }))
    t.match(String(ok[3]), /^blocked: kind 1 is not accepted here/)
  }
  const forged = { ...who.sign({ kind: 0, content: SECRET }), sig: '0'.repeat(128) }
  t.match(String((await c.publish(forged))[3]), /^invalid: signature does not verify/)

  // The five may fall in two intervals: add up every summary line.
  const counted = (prefix: string) =>
    lines
      .filter(l => l.component === 'refusal' && /^refusals in the last 1 s: /.test(l.msg))
      .reduce((n, l) => n + Number(new RegExp(`\\b${prefix} (\\d+)`).exec(l.msg)?.[1] ?? 0), 0)
  await waitFor(() => counted('blocked') === 5 && counted('invalid') === 1, 'the refusal summaries', 30_000)
  const summary = find(lines, /^refusals in the last 1 s: /)!
  t.equal(summary.level, INFO)

  const sampled = lines.filter(l => /^refused \(sampled\): /.test(l.msg))
  t.ok(sampled.length >= 1 && sampled.length <= 6, 'a few refusals, sampled (at most 3 per interval)')
  const first = sampled[0]!
  t.equal(first.level, INFO)
  t.match(first.msg, /^refused \(sampled\): blocked: kind 1 is not accepted here/)
  t.match(first.msg, `kind 1, pubkey ${who.pubkey.slice(0, 8)}, ip 127.0.0.1`)
  t.equal(first.pubkey, who.pubkey.slice(0, 8), 'a pubkey prefix, not the key')
  t.equal(first.ip, '127.0.0.1')

  await waitFor(() => find(lines, /^connections 1, subscriptions 0$/) !== undefined, 'the connections line', 30_000)
  t.notMatch(text(), SECRET, 'no event content in any record')
})

t.test('a delivered job is logged with its job id and provider, and counted in the summary', async t => {
  const { relay, lines, text } = await loggedRelay(t, { 'market.enabled': true, 'market.publish_interval': 50 })
  const c = await connectFor(t, relay.url)
  const [customer, provider] = [signer(), signer()]
  const req = request(customer, { tags: [['param', 'secret', SECRET]] })
  t.same(await c.publish(req), ['OK', req.id, true, ''])
  const res = result(provider, req, { tags: [['i', SECRET, 'text']] })
  t.same(await c.publish(res), ['OK', res.id, true, ''])
  await waitFor(
    () => find(lines, new RegExp(`^job ${req.id} delivered by ${provider.pubkey}$`)) !== undefined,
    'the delivery line',
    30_000,
  )
  const line = find(lines, /^job .* delivered by /)!
  t.equal(line.level, INFO)
  t.equal(line.component, 'market')
  t.equal(line.job, req.id)
  t.equal(line.provider, provider.pubkey)
  await waitFor(
    () => find(lines, /^market milestones in the last 1 s: delivered 1$/) !== undefined,
    'the milestone summary',
    30_000,
  )
  t.notMatch(text(), SECRET, 'no event content in any record')
  t.notMatch(text(), 'the summary', "not the result's content either")
})

t.test('a provider flagged by reports is logged with its key, once', async t => {
  const customer = signer()
  const { relay, lines } = await loggedRelay(t, {
    'market.enabled': true,
    'market.flag_threshold': 1,
    'market.standing_interval': 0,
    'market.assertion_interval': 0,
    'market.publish_interval': 50,
    'market.trust_roots': customer.pubkey,
  })
  const c = await connectFor(t, relay.url)
  const provider = signer()
  const req = request(customer)
  t.same(await c.publish(req), ['OK', req.id, true, ''])
  const res = result(provider, req)
  t.same(await c.publish(res), ['OK', res.id, true, ''])
  const rep = report(customer, provider.pubkey)
  t.same(await c.publish(rep), ['OK', rep.id, true, ''])
  const flagged = new RegExp(`^provider ${provider.pubkey} flagged \\(reports reached market.flag_threshold\\)$`)
  await waitFor(() => find(lines, flagged) !== undefined, 'the flag line', 30_000)
  t.equal(find(lines, flagged)!.level, INFO)
  await waitFor(
    () => find(lines, /^market milestones in the last 1 s: .*flagged 1/) !== undefined,
    'the summary',
    30_000,
  )
  // Standing is computed again (the customer trusts someone new, whose assertion then appears): still one line.
  const trusted = signer()
  const decl = trust(customer, trusted.pubkey)
  t.same(await c.publish(decl), ['OK', decl.id, true, ''])
  await outputWhen(c, relay.pubkey, 30382, trusted.pubkey, () => true, 'the next computation', 30_000)
  t.equal(lines.filter(l => flagged.test(l.msg)).length, 1, 'flagged once, not at every computation')
})

t.test('slow queries and slow commits are logged with the filter shape and the batch size', async t => {
  // 0 ms: every query and every commit counts as slow.
  const { relay, lines } = await loggedRelay(t, { 'log.slow_query_ms': 0, 'log.slow_commit_ms': 0 })
  const c = await connectFor(t, relay.url)
  const e = signer().sign({ content: SECRET })
  t.same(await c.publish(e), ['OK', e.id, true, ''])
  await c.req('q', { kinds: [1, 7], authors: [e.pubkey], '#p': ['a'.repeat(64), 'b'.repeat(64)], limit: 5 })
  await waitFor(() => find(lines, /^slow query: /) !== undefined, 'the slow query line', 30_000)
  const q = find(lines, /^slow query: /)!
  t.equal(q.level, WARN)
  t.equal(q.component, 'store')
  t.match(q.msg, /^slow query: \d+ ms for REQ \{authors:1 kinds:\[1,7\] #p:2 limit:5\} \(via tag\)$/)
  t.notMatch(q.msg, e.pubkey, 'the shape, not the values')
  const commit = find(lines, /^slow commit: /)
  t.ok(commit, 'the commit line')
  t.equal(commit!.level, WARN)
  t.match(commit!.msg, /^slow commit: \d+ ms for a batch of 1 event$/)
})
