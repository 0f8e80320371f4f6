// The operator's read-only market commands (agora market jobs|providers|show, agora escrow list), run as the
// compiled CLI against the data dir of a relay that is still running, where a provider announced itself and
// delivered a job posted through the relay.
import t from 'tap'
import { npubEncode } from 'nostr-tools/nip19'
import { bytesToHex } from '@noble/curves/utils.js'
import { generateSecretKey } from 'nostr-tools/pure'
import { runCli } from '../helpers/cli.js'
import { now, signer } from '../helpers/events.js'
import { accepted, handler, ledgerWhen, output, request, result, startMarket, type Market } from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'

type Setup = Market & { provider: string; delivered: string; open: string }

/** A provider that announced itself and sent a heartbeat, a job it delivered, and a later job still open. */
async function deliveredJob(t: Parameters<typeof startMarket>[0]): Promise<Setup> {
  const m = await startMarket(t)
  const [customer, provider] = [signer(), signer()]
  await accepted(t, m.c, handler(provider, 'agent@example.com'), 'the announcement')
  const beat = provider.sign({
    kind: 30333,
    tags: [
      ['d', 'node'],
      ['status', 'online'],
      ['k', '5100'],
      ['price', '5100:10'],
    ],
  })
  await accepted(t, m.c, beat, 'a heartbeat')
  const req = request(customer, { bid: 20_000 })
  await accepted(t, m.c, req, 'the request')
  await accepted(t, m.c, result(provider, req, { amount: 10_000 }), 'the result')
  const later = request(customer, { bid: 5_000 })
  await accepted(t, m.c, later, 'a later request')
  // The delivery's ledger entry is stored before the commands read them (an open job has none yet).
  await ledgerWhen(m, req.id, 'delivered')
  return { ...m, provider: provider.pubkey, delivered: req.id, open: later.id }
}

const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter(l => l !== '')
    .map(l => JSON.parse(l) as Record<string, unknown>)

t.test('market jobs lists the jobs newest first, as a table or JSON lines, beside the running relay', async t => {
  const m = await deliveredJob(t)
  const table = await runCli(['market', 'jobs', '--data', m.dataDir])
  t.equal(table.code, 0, table.stderr)
  const lines = table.stdout.trimEnd().split('\n')
  t.match(lines[0], /^id +kind +state +customer +provider +bid_msats +created$/, 'a header')
  t.equal(lines.length, 3, 'one row per job')
  t.match(lines[1], new RegExp(`^${m.open} +5100 +open .* - +5000 +\\d{4}-\\d\\d-\\d\\dT`), 'the later job first')
  t.match(lines[2], new RegExp(`^${m.delivered} +5100 +delivered .*${m.provider.slice(0, 16)} +20000 `))

  const json = await runCli(['market', 'jobs', '--json', '--data', m.dataDir])
  t.equal(json.code, 0, json.stderr)
  const rows = jsonLines(json.stdout)
  t.same(
    rows.map(r => r.id),
    [m.open, m.delivered],
  )
  t.match(rows[1], { kind: 5100, state: 'delivered', provider: m.provider, bid_msats: 20_000, amount_msats: 10_000 })
  t.equal(json.stderr, '', 'nothing on stderr when jobs match')
})

t.test('market jobs filters by state, provider (hex or npub) and --since', async t => {
  const m = await deliveredJob(t)
  const ids = async (...args: string[]) => {
    const r = await runCli(['market', 'jobs', '--json', '--data', m.dataDir, ...args])
    t.equal(r.code, 0, `${args.join(' ')}: exit 0 (${r.stderr})`)
    return { ids: jsonLines(r.stdout).map(j => j.id), stderr: r.stderr }
  }
  t.same((await ids('--state', 'delivered')).ids, [m.delivered], '--state delivered')
  t.same((await ids('--state', 'open')).ids, [m.open], '--state open')
  t.same((await ids('--provider', m.provider)).ids, [m.delivered], '--provider hex')
  t.same((await ids('--provider', npubEncode(m.provider))).ids, [m.delivered], '--provider npub')
  t.same((await ids('--since', '1h')).ids, [m.open, m.delivered], '--since 1h')
  t.same((await ids('--since', String(now() - 3600))).ids, [m.open, m.delivered], '--since in unix seconds')
  const none = await ids('--since', String(now() + 3600))
  t.same(none.ids, [], 'nothing created after an hour from now')
  t.equal(none.stderr, 'agora: no jobs match\n', 'and it says so on stderr')

  const bad = await runCli(['market', 'jobs', '--state', 'delivred', '--data', m.dataDir])
  t.equal(bad.code, 2, 'an unknown state is a usage error')
  t.match(bad.stderr, /--state: "delivred" is not a job state \(open, locked, judging, delivered, paid/)
  const since = await runCli(['market', 'jobs', '--since', 'yesterday', '--data', m.dataDir])
  t.equal(since.code, 2)
  t.match(since.stderr, /--since takes unix seconds or a duration/)
  const key = await runCli(['market', 'jobs', '--provider', 'bob', '--data', m.dataDir])
  t.equal(key.code, 2)
  t.match(key.stderr, /--provider: "bob" is not a pubkey/)
})

t.test('market providers shows what the relay would assert for each provider', async t => {
  const m = await deliveredJob(t)
  const json = await runCli(['market', 'providers', '--json', '--data', m.dataDir])
  t.equal(json.code, 0, json.stderr)
  const [p, ...others] = jsonLines(json.stdout)
  t.same(others, [], 'one provider')
  t.match(p, {
    pubkey: m.provider,
    name: 'agent',
    kinds: [5100],
    price: '5100:10',
    online: true,
    jobs_delivered: 1,
    jobs_paid_raw: 0,
    flagged: false,
  })
  const asserted = await output(m.c, m.relay.pubkey, 30382, m.provider)
  const tag = (n: string) => asserted?.tags.find(x => x[0] === n)?.[1]
  t.equal(String(p!.rank), tag('rank'), 'the rank of its 30382')
  t.equal(String(p!.standing), tag('standing'), 'the standing of its 30382')

  const table = await runCli(['market', 'providers', '--data', m.dataDir])
  t.equal(table.code, 0, table.stderr)
  const lines = table.stdout.trimEnd().split('\n')
  t.match(lines[0], /^pubkey +name +kinds +price +online +rank +standing +delivered +paid +flagged$/)
  t.match(lines[1], new RegExp(`^${m.provider} +agent +5100 +5100:10 +yes +\\d+ +[\\d.]+ +1 +0 +-$`))
})

t.test('market show prints the stored ledger entry, or builds the same from the tables', async t => {
  const m = await deliveredJob(t)
  const stored = await ledgerWhen(m, m.delivered, 'delivered')
  const show = await runCli(['market', 'show', m.delivered, '--data', m.dataDir])
  t.equal(show.code, 0, show.stderr)
  const entry = JSON.parse(show.stdout) as { source: string; event: { id: string }; ledger: Record<string, unknown> }
  t.equal(entry.source, '31118')
  t.same(entry.event, { id: stored.id, pubkey: m.relay.pubkey, created_at: stored.created_at }, 'names the event')
  t.match(entry.ledger, {
    d: m.delivered,
    k: '5100',
    state: 'delivered',
    provider: m.provider,
    bid: '20000',
    amount: '10000',
    result: String,
  })
  t.same(
    Object.keys(entry.ledger),
    [...new Set(stored.tags.map(x => x[0]))],
    'every tag of the stored entry, in its order',
  )

  // With another relay key configured, no entry of that key is stored: the ledger is built from the tables.
  const other = bytesToHex(generateSecretKey())
  const built = await runCli(['market', 'show', m.delivered, '--data', m.dataDir], {
    env: { AGORA_RELAY_SECRET_KEY: other },
  })
  t.equal(built.code, 0, built.stderr)
  const fromTables = JSON.parse(built.stdout) as { source: string; event?: unknown; ledger: unknown }
  t.equal(fromTables.source, 'tables')
  t.equal(fromTables.event, undefined)
  t.same(fromTables.ledger, entry.ledger, 'the same ledger as the published one')

  // An open job has no entry yet (the relay publishes one at its first transition).
  const open = await runCli(['market', 'show', m.open, '--data', m.dataDir])
  t.equal(open.code, 0, open.stderr)
  t.match(JSON.parse(open.stdout), { job: m.open, source: 'tables', ledger: { d: m.open, state: 'open', bid: '5000' } })

  const missing = await runCli(['market', 'show', 'f'.repeat(64), '--data', m.dataDir])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^agora: the market holds no job or workflow f{64}\n$/)
  t.equal(missing.stdout, '')
})

t.test('empty listings say so on stderr and exit 0', async t => {
  const r = await startTestRelay(t)
  for (const [args, message] of [
    [['market', 'jobs'], 'agora: no jobs match\n'],
    [['market', 'jobs', '--json'], 'agora: no jobs match\n'],
    [['market', 'providers'], 'agora: no providers\n'],
    [['escrow', 'list'], 'agora: no escrows\n'],
  ] as const) {
    const out = await runCli([...args, '--data', r.dataDir])
    t.equal(out.code, 0, `${args.join(' ')}: exit 0`)
    t.equal(out.stdout, '', `${args.join(' ')}: nothing on stdout`)
    t.equal(out.stderr, message, `${args.join(' ')}: says so`)
  }
})

t.test('the market commands need a store: a data dir without one is named', async t => {
  const r = await runCli(['market', 'jobs', '--data', '/nonexistent/agora-data'])
  t.equal(r.code, 1)
  t.match(r.stderr, /^agora: no database at \/nonexistent\/agora-data\/agora\.sqlite/)
  const sub = await runCli(['market', 'list', '--data', '/nonexistent/agora-data'])
  t.equal(sub.code, 2, 'an unknown subcommand is a usage error')
  t.match(sub.stderr, /market takes one subcommand: rebuild, jobs, providers or show JOB/)
})
