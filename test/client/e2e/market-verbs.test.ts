// The customer's other verbs as processes: listing providers from their announcements and the relay's
// assertions, reviewing the provider of a delivered job, declaring trust and reporting.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { customer, keyFile, startAgentCli } from '../../helpers/agents.js'
import { connectFor, queryIds } from '../../helpers/client.js'
import { ledgerWhen, outputWhen, roots, startMarket, tag } from '../../helpers/market.js'
import type { ProviderRow } from '../../../client/verbs/social.js'

const rows = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(l => JSON.parse(l) as ProviderRow)

t.test('agora providers lists agents by kind and feature, with price, online and the relay’s rank', async t => {
  const me = keyFile(t)
  const m = await startMarket(t, roots(me))
  const skill = join(me.dir, 'skill.json')
  writeFileSync(skill, JSON.stringify({ name: 'shouter', about: 'upper-cases text', features: ['upper'] }))
  const a = await startAgentCli(
    t,
    [m.url],
    ['--kind', '5100', '--processor', 'exec:tr a-z A-Z', '--price', '5', '--skill', skill],
  )
  const b = await startAgentCli(t, [m.url], ['--kind', '5200', '--processor', 'exec:rev', '--price', '7'])
  const all = await customer([m.url], me.file, ['providers', '--json'])
  t.equal(all.code, 0, all.stderr)
  t.same(new Set(rows(all.stdout).map(r => r.pubkey)), new Set([a.pubkey, b.pubkey]))
  const k = rows((await customer([m.url], me.file, ['providers', '--kind', '5100', '--json'])).stdout)
  t.same(
    k.map(r => [r.pubkey, r.name, r.price, r.online]),
    [[a.pubkey, 'shouter', '5100:5', true]],
  )
  const f = rows((await customer([m.url], me.file, ['providers', '--feature', 'upper', '--json'])).stdout)
  t.same(
    f.map(r => r.pubkey),
    [a.pubkey],
    'only the agent whose skill lists the feature',
  )
  // A trust root's declaration gives the agent a score of 100: rank 29.
  const trusted = await customer([m.url], me.file, ['trust', a.pubkey])
  t.equal(trusted.code, 0, trusted.stderr)
  await outputWhen(m.c, m.relay.pubkey, 30382, a.pubkey, e => tag(e, 'rank') === '29', 'the rank', 90_000)
  const ranked = rows((await customer([m.url], me.file, ['providers', '--json'])).stdout)
  t.same(
    ranked.map(r => [r.pubkey, r.rank]),
    [
      [a.pubkey, 29],
      [b.pubkey, 0],
    ],
    'best rank first',
  )
})

t.test('the customer reviews and reports the provider of a delivered job', async t => {
  const m = await startMarket(t)
  const a = await startAgentCli(t, [m.url], ['--kind', '5100', '--processor', 'exec:cat'])
  const me = keyFile(t)
  const posted = await customer([m.url], me.file, ['job', 'post', '--kind', '5100', 'x', '--wait', '--timeout', '60'])
  t.equal(posted.code, 0, posted.stderr)
  const job = /job ([0-9a-f]{64}) posted/.exec(posted.stderr)![1]!
  await ledgerWhen(m, job, 'delivered')
  const r = await customer([m.url], me.file, ['review', job, '--rating', '5', '--text', 'fast'])
  t.equal(r.code, 0, r.stderr)
  const c = await connectFor(t, m.url)
  t.same(await queryIds(c, { kinds: [31117], authors: [me.pubkey], '#p': [a.pubkey], '#d': [job] }), [r.stdout.trim()])
  const bad = await customer([m.url], me.file, ['review', job, '--rating', '9'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--rating must be from 1 to 5/)
  const rep = await customer([m.url], me.file, ['report', a.pubkey, '--type', 'spam', '--text', 'meh'])
  t.equal(rep.code, 0, rep.stderr)
  t.same(await queryIds(c, { kinds: [1984], authors: [me.pubkey], '#p': [a.pubkey] }), [rep.stdout.trim()])
  const self = await customer([m.url], me.file, ['trust', me.pubkey])
  t.equal(self.code, 1, 'trusting oneself is refused by the relay')
  t.match(self.stderr, /restricted: a key cannot declare trust in itself/)
})
