import t, { type Test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { run, UsageError, type Report } from '../../bench/run.js'
import { ensureBuilt } from '../helpers/cli.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'

// Each scenario at a tiny size against a local agora (a child process from dist/): the figures must agree with
// what was sent and received. No timing assertions: the machine is shared.
ensureBuilt()

const quiet = { print: () => {}, log: () => {} }

/** Runs the harness in-process with a temp cache and output dir; returns the report as written to its JSON file. */
async function bench(t: Test, ...argv: string[]): Promise<Report> {
  const dir = tempDir(t, 'agora-bench-test-')
  const { report, file } = await run(
    [...argv, '--cache', `${dir}/cache`, '--out', `${dir}/out`, '--timeout', '300'],
    quiet,
  )
  const written = JSON.parse(readFileSync(file, 'utf8')) as Report
  t.same(written, JSON.parse(JSON.stringify(report)), 'the JSON file holds the report')
  return written
}

const positive = (t: Test, x: unknown, what: string) =>
  t.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what} is finite and > 0 (got ${x})`)

/** The machine, relay and command parts every local report carries. */
function checkHeader(t: Test, r: Report, argv0: string) {
  t.ok(r.command.startsWith(`npm run bench -- ${argv0} `), `the command line is recorded (${r.command})`)
  t.ok(r.machine.cpu.length > 0, 'cpu model recorded')
  positive(t, r.machine.cores, 'cores')
  positive(t, r.machine.ramGb, 'RAM')
  t.equal(r.machine.node, process.version)
  t.equal(r.relay.local, true)
  t.match(r.relay.url, /^ws:\/\/127\.0\.0\.1:\d+$/)
  t.match(r.relay.verifier, /\S/, 'the verifier backend logged by the relay is recorded')
}

t.test('ingest: every one of the N unique events is accepted once, and its rates are finite', async t => {
  const r = await bench(t, 'ingest', '-n', '200', '-c', '2', '-w', '8', '-r', '1')
  checkHeader(t, r, 'ingest')
  const runs = r.results.runs as Record<string, number>[]
  t.equal(runs.length, 1)
  const run = runs[0]!
  t.equal(run.sent, 200)
  t.equal(run.accepted, 200)
  t.equal(run.duplicates, 0)
  t.equal(run.refused, 0)
  for (const k of ['seconds', 'eventsPerSec', 'okP50Ms', 'okP99Ms', 'serverCpuPercent', 'serverPeakRssMb'])
    positive(t, run[k], k)
  t.ok(run.okP99Ms! >= run.okP50Ms!, 'p99 >= p50')
  t.equal((r.results.median as Record<string, number>).eventsPerSec, run.eventsPerSec, 'one run is its own median')
})

t.test('ingest with two runs publishes fresh events each run (no duplicates)', async t => {
  const r = await bench(t, 'ingest', '-n', '60', '-c', '2', '-w', '4', '-r', '2')
  const runs = r.results.runs as Record<string, number>[]
  t.same(
    runs.map(x => [x.accepted, x.duplicates, x.refused]),
    [
      [60, 0, 0],
      [60, 0, 0],
    ],
  )
})

t.test('ingest --mix notes publishes a corpus of kind-1 notes only, each accepted once', async t => {
  const dir = tempDir(t, 'agora-bench-test-')
  const { report } = await run(
    ['ingest', '--mix', 'notes', '-n', '50', '-c', '2', '-w', '4', '-r', '1', '--cache', dir, '--out', dir],
    quiet,
  )
  t.equal(report.options.mix, 'notes')
  const run1 = (report.results.runs as Record<string, number>[])[0]!
  t.same([run1.accepted, run1.duplicates, run1.refused], [50, 0, 0])
  const corpus = readdirSync(dir).filter(f => f.startsWith('ingest-notes-') && f.endsWith('.jsonl'))
  t.equal(corpus.length, 1, 'the notes corpus is cached under its own name')
  const kinds = new Set(
    readFileSync(`${dir}/${corpus[0]}`, 'utf8')
      .trim()
      .split('\n')
      .map(l => (JSON.parse(l) as { kind: number }).kind),
  )
  t.same([...kinds], [1])
})

t.test('writer: every event saved at each batch size, and larger batches write less WAL per event', async t => {
  const r = await bench(t, 'writer', '-n', '200', '--batches', '20,100', '-r', '1')
  const rows = r.results.rows as { batch: number; eventsPerSec: number; walKbPerEvent: number; commits: number }[]
  t.same(
    rows.map(x => [x.batch, x.commits]),
    [
      [20, 10],
      [100, 2],
    ],
    'one commit per batch',
  )
  for (const x of rows) positive(t, x.eventsPerSec, `events/s at ${x.batch}`)
  t.ok(rows[0]!.walKbPerEvent > rows[1]!.walKbPerEvent, 'each commit rewrites the pages it touched')
})

t.test('fanout: each subscription receives exactly the published events its filter selects', async t => {
  const r = await bench(t, 'fanout', '-s', '20', '--subs-per-conn', '5', '-n', '50', '-r', '1')
  checkHeader(t, r, 'fanout')
  t.equal(r.results.subscriberConnections, 4, '20 subscriptions over 4 connections')
  const run = (r.results.runs as Record<string, number>[])[0]!
  t.equal(run.events, 50)
  t.equal(run.accepted, 50)
  positive(t, run.expectedDeliveries, 'expected deliveries (the filters select something)')
  t.equal(run.deliveries, run.expectedDeliveries, 'deliveries == what the filters select')
  t.equal(run.mismatchedSubs, 0, 'no subscription got more or fewer than its own filter selects')
  t.equal(run.unexpected, 0, 'nothing outside the published events was delivered')
  for (const k of [
    'seconds',
    'deliveriesPerSec',
    'latencyP50Ms',
    'latencyP99Ms',
    'serverCpuPercent',
    'serverPeakRssMb',
  ])
    positive(t, run[k], k)
})

t.test('query: every REQ shape returns the number of events the corpus holds for it', async t => {
  const r = await bench(t, 'query', '-n', '2000', '-k', '3')
  checkHeader(t, r, 'query')
  positive(t, r.results.loadSeconds, 'import time')
  const shapes = r.results.shapes as { shape: string; [k: string]: unknown }[]
  t.same(
    shapes.map(s => s.shape),
    ['by id', 'authors+kinds', '#e', '#p+kinds', 'kinds+since', '{} limit 500'],
  )
  for (const s of shapes) {
    t.equal(s.queries, 3, `${s.shape}: 3 queries`)
    t.equal(s.refused, 0, `${s.shape}: none refused`)
    t.equal(s.wrongCounts, 0, `${s.shape}: every result count matches the corpus`)
    positive(t, s.meanResults, `${s.shape}: mean results`)
    positive(t, s.p50Ms, `${s.shape}: p50`)
    positive(t, s.p99Ms, `${s.shape}: p99`)
  }
  t.equal(shapes[0]!.meanResults, 1, 'by id finds its one event')
  t.equal(shapes[5]!.meanResults, 500, '{} limit 500 returns 500 of 2000')
})

t.test('negentropy: each reconciliation finds exactly the planted difference', async t => {
  const r = await bench(t, 'negentropy', '-n', '4000', '-r', '2', '--diffs', '1,10')
  checkHeader(t, r, 'negentropy')
  const diffs = r.results.diffs as Record<string, number | boolean>[]
  t.same(
    diffs.map(d => [d.diffPercent, d.onlyRelay, d.onlyClient, d.exact]),
    [
      [1, 20, 20, true],
      [10, 200, 200, true],
    ],
  )
  for (const d of diffs) {
    positive(t, d.totalMs, 'total time')
    positive(t, d.rounds, 'rounds')
    t.ok((d.receivedBytes as number) < 4000 * 32, 'less than the ids alone')
  }
})

t.test('connections: every connection opens with a live subscription and the server RSS is read', async t => {
  const r = await bench(t, 'connections', '-c', '50')
  checkHeader(t, r, 'connections')
  t.equal(r.results.opened, 50)
  t.equal(r.results.failed, 0)
  positive(t, r.results.serverRssBeforeMb, 'RSS before')
  positive(t, r.results.serverRssAfterMb, 'RSS after')
  t.ok(Number.isFinite(r.results.serverRssPerConnectionKb), 'RSS per connection is a number')
  positive(t, r.results.connectionsPerSec, 'connections/s')
})

t.test('standing: a computation over N edges reaches keys beyond the roots and times each phase', async t => {
  const r = await bench(t, 'standing', '-n', '2000', '-r', '1')
  t.equal(r.relay.url, 'in-process')
  type Phase = { computeMs: number; applyMs: number; rows: number }
  const run = (
    r.results.runs as (Record<'first' | 'unchanged' | 'oneTrust', Phase> & { keysWithStanding: number })[]
  )[0]!
  for (const p of ['first', 'unchanged', 'oneTrust'] as const) {
    positive(t, run[p].computeMs, `${p}: read and compute`)
    positive(t, run[p].applyMs, `${p}: write`)
  }
  t.ok(run.keysWithStanding > 10, `standing reaches beyond the 10 roots (${run.keysWithStanding})`)
  t.ok(run.first.rows > run.keysWithStanding, `the first computation writes every row (${run.first.rows})`)
  t.equal(run.unchanged.rows, 0, 'nothing changed, nothing written')
  t.ok(run.oneTrust.rows > 0, `a new trust declaration rewrites rows (${run.oneTrust.rows})`)
  t.equal((r.results.median as { keysWithStanding: number }).keysWithStanding, run.keysWithStanding)
})

t.test('verify: each backend present checks every event of each round, and signing is timed', async t => {
  const r = await bench(t, 'verify', '-n', '200', '-r', '2')
  t.equal(r.relay.url, 'in-process')
  const rows = r.results.rows as { backend: string; checked: number; usPerVerify: number }[]
  t.same(
    rows.map(x => x.backend).filter(b => b !== 'native'),
    ['wasm', 'noble'],
    'wasm and noble are always there; native when it was built',
  )
  for (const x of rows) {
    t.equal(x.checked, x.backend === 'noble' ? 20 : 200)
    positive(t, x.usPerVerify, `${x.backend} µs per verify`)
  }
  positive(t, (r.results.sign as { usPerEvent: number }).usPerEvent, 'signing µs per event')
})

t.test(
  'mirror-flood: the local client is timed on both relays, and the flooding upstream is held to its budget',
  async t => {
    const r = await bench(t, 'mirror-flood', '-k', '40', '--budget', '60')
    checkHeader(t, r, 'mirror-flood')
    type Phase = { p50Ms: number; p99Ms: number; maxMs: number }
    const quiet = r.results.withoutMirror as Phase
    const flooded = r.results.withFlood as Phase & { upstreamConnects: number; mirroredStored: number }
    for (const [what, p] of [
      ['without a mirror', quiet],
      ['with the flood', flooded],
    ] as const) {
      positive(t, p.p50Ms, `${what}: p50`)
      t.ok(p.p50Ms <= p.p99Ms && p.p99Ms <= p.maxMs, `${what}: p50 <= p99 <= max`)
    }
    t.ok(flooded.upstreamConnects >= 1, 'the mirror connected to the upstream')
    t.ok(flooded.mirroredStored <= 60 + 15, `at most about the budget was stored (${flooded.mirroredStored})`)
  },
)

t.test('--url benchmarks a relay the harness did not start, without server readings', async t => {
  const { url } = await startTestRelay(t)
  const r = await bench(t, 'ingest', '--url', url, '-n', '40', '-c', '1', '-w', '4', '-r', '1')
  t.equal(r.relay.local, false)
  t.equal(r.relay.url, url)
  t.equal(r.relay.verifier, undefined)
  const run = (r.results.runs as Record<string, number | null>[])[0]!
  t.equal(run.accepted, 40)
  t.equal(run.serverCpuPercent, null, 'no CPU reading for a relay without --pid (null in JSON)')
})

t.test('bad command lines are refused with a reason before anything starts', async t => {
  const dir = tempDir(t)
  const refused = (argv: string[], re: RegExp) =>
    t.rejects(run([...argv, '--out', dir, '--cache', dir], quiet), { constructor: UsageError, message: re })
  await refused(['warp'], /give one scenario: ingest, fanout, query, connections, standing/)
  await refused(['standing', '--url', 'ws://127.0.0.1:7777'], /no --url/)
  await refused(['verify', '--url', 'ws://127.0.0.1:7777'], /no --url/)
  await refused(['ingest', '--url', 'ws://example.com:7777'], /loopback/)
  await refused(['ingest', '-n', '0'], /--events must be an integer >= 1/)
  await refused(['ingest', '--set', 'nokey'], /--set takes KEY=VALUE/)
  await refused(['ingest', '--mix', 'zaps'], /--mix is market or notes/)
  await refused(['writer', '--url', 'ws://127.0.0.1:7777'], /no --url/)
  await refused(['mirror-flood', '--url', 'ws://127.0.0.1:7777'], /no --url/)
  await refused(['writer', '--batches', '64,x'], /--batches must be an integer >= 1/)
  t.same(readdirSync(dir), [], 'nothing written')
})
