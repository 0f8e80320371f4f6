// agora sync URL: NIP-77 between two agora relays, the compiled CLI against a data dir, the other relay running.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { bulkSigner, type Template } from '../../bench/bulk-sign.js'
import { canonicalJson, type NostrEvent } from '../../nips/nip01.js'
import { databaseFile } from '../../relay/app.js'
import type { SyncReport } from '../../relay/commands/sync.js'
import { runCli, spawnRelay, startCli } from '../helpers/cli.js'
import { fastSigner, now } from '../helpers/events.js'
import { jobRow } from '../helpers/market.js'
import { tempDir } from '../helpers/relay.js'

// Within the relay's created_at window (three years back by default), 20 events a second.
const BASE = now() - 30 * 86400
const KINDS = [1, 7, 1111]

/** `n` regular events in created_at order from five throwaway keys, the kinds in turn; `offset` varies the ids. */
function corpus(n: number, offset = 0): NostrEvent[] {
  const tpls: Template[] = Array.from({ length: n }, (_, i) => ({
    kind: KINDS[i % KINDS.length]!,
    created_at: BASE + Math.floor(i / 20),
    tags: [['t', `topic${i % 13}`]],
    content: `event ${offset + i}`,
  }))
  const byKey = Array.from({ length: 5 }, (_, k) => bulkSigner().signAll(tpls.filter((_, i) => i % 5 === k)))
  return tpls.map((_, i) => byKey[i % 5]![Math.floor(i / 5)]!)
}

/** Splits events into those on both sides, only on A and only on B (every `every`-th, and the one after it). */
function split(events: NostrEvent[], every: number) {
  return {
    shared: events.filter((_, i) => i % every > 1),
    onlyA: events.filter((_, i) => i % every === 0),
    onlyB: events.filter((_, i) => i % every === 1),
  }
}

/** A job request and a provider's result a second later: the market delivers the job, if it folds them in order. */
function deliveredJob(): [NostrEvent, NostrEvent] {
  const at = now() - 60
  const req = fastSigner().sign({ kind: 5100, created_at: at, tags: [['i', 'summarise this', 'text']] })
  const tags = [
    ['e', req.id],
    ['p', req.pubkey],
  ]
  return [req, fastSigner().sign({ kind: 6100, created_at: at + 1, tags, content: 'the summary' })]
}

/** Imports `events` into a new data dir under `dir` with `agora import`, and returns the data dir. */
async function importInto(t: Test, dir: string, name: string, events: NostrEvent[]): Promise<string> {
  const data = join(dir, name)
  const file = join(dir, `${name}.jsonl`)
  writeFileSync(file, events.map(e => canonicalJson(e) + '\n').join(''))
  const r = await runCli(['import', file, '--data', data], { timeoutMs: 180_000 })
  t.equal(r.code, 0, `import into ${name} exits 0; stderr: ${r.stderr.slice(-300)}`)
  return data
}

/** How many events the data dir stores, read beside whatever runs on it. */
function stored(data: string): number {
  const db = new Database(databaseFile(data), { readonly: true })
  try {
    return db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number
  } finally {
    db.close()
  }
}

/** `agora export` of a data dir, as bytes. */
async function exported(t: Test, dir: string, data: string): Promise<Buffer> {
  const out = join(dir, `export-${Math.random().toString(36).slice(2)}.jsonl`)
  const r = await runCli(['export', '--data', data], { stdoutFile: out, timeoutMs: 120_000 })
  t.equal(r.code, 0, `export exits 0; stderr: ${r.stderr.slice(-300)}`)
  return readFileSync(out)
}

/** Runs `agora sync URL --json` with extra args; returns the exit code, its report and its stderr. */
async function runSync(
  url: string,
  args: string[],
): Promise<{ code: number | null; report?: SyncReport; stderr: string }> {
  const r = await runCli(['sync', url, '--json', ...args], { timeoutMs: 300_000 })
  const json = r.stdout.trim()
  return { code: r.code, stderr: r.stderr, ...(json ? { report: JSON.parse(json) as SyncReport } : {}) }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

t.test(
  'sync both ways with 50,000 events, 10 % on one side only, moves exactly the difference and leaves equal exports',
  async t => {
    const dir = tempDir(t)
    // Every 20th event only on A, the next only on B: the differences spread over the whole time range.
    const { shared, onlyA, onlyB } = split(corpus(50_000), 20)
    const jobB = deliveredJob()
    const a = await importInto(t, dir, 'a', [...shared, ...onlyA])
    const b = await importInto(t, dir, 'b', [...shared, ...onlyB, ...jobB])
    t.equal(stored(a), 47_500)
    t.equal(stored(b), 47_502)
    const relayB = await startCli(t, b)

    const first = await runSync(relayB.url, ['--data', a, '--direction', 'both'])
    t.equal(first.code, 0, `sync exits 0; stderr: ${first.stderr.slice(-500)}`)
    const r = first.report!
    t.equal(r.have, 2_500, 'have: the events only on A')
    t.equal(r.need, 2_502, 'need: the events only on B, the job pair included')
    t.equal(r.via, 'writer', 'with A stopped, pulled events go through this process’s writer')
    t.same(r.down, { unavailable: 0, stored: 2_502, duplicate: 0, refused: 0 })
    t.same(r.up, { accepted: 2_500, duplicate: 0, refused: 0, refusals: {}, gone: 0 })
    t.match(first.stderr, /^agora: sync with ws:\/\/.*: have 2500, need 2502; down through the writer: stored 2502/m)
    t.comment(`50k sync: ${r.seconds} s, ${r.rounds} rounds, ${r.sentBytes} bytes sent, ${r.receivedBytes} received`)
    // Counted apart from the report: each side grew by exactly what the other lacked.
    t.equal(stored(a), 47_500 + 2_502, 'A gained exactly the 2,502 events only B had')
    t.equal(stored(b), 47_502 + 2_500, 'B gained exactly the 2,500 events only A had')
    // The pulled pair went through A's market fold, in order: the request opened the job, the result delivered it.
    t.match(jobRow(a, jobB[0].id), { state: 'delivered', result_id: jobB[1].id })

    const second = await runSync(relayB.url, ['--data', a])
    t.equal(second.code, 0, `the second sync exits 0; stderr: ${second.stderr.slice(-300)}`)
    t.match(
      second.report,
      { have: 0, need: 0, down: { stored: 0 }, up: { accepted: 0 } },
      'a second sync moves nothing',
    )

    relayB.child.kill('SIGTERM')
    await relayB.exited
    const [ea, eb] = [await exported(t, dir, a), await exported(t, dir, b)]
    t.equal(ea.length, eb.length, 'the exports have the same length')
    t.equal(sha256(ea), sha256(eb), 'the exports of A and B are the same bytes')
  },
)

t.test('sync beside a relay running on the data dir publishes the pulled events to it, through its market', async t => {
  const dir = tempDir(t)
  const { shared, onlyA, onlyB } = split(corpus(5_000, 1), 20)
  const jobB = deliveredJob()
  const a = await importInto(t, dir, 'a', [...shared, ...onlyA])
  const b = await importInto(t, dir, 'b', [...shared, ...onlyB, ...jobB])
  const [relayA, relayB] = [await startCli(t, a), await startCli(t, b)]
  const port = new URL(relayA.url).port
  const s = await runSync(relayB.url, ['--data', a, '--port', port])
  t.equal(s.code, 0, `sync exits 0; stderr: ${s.stderr.slice(-500)}`)
  t.match(s.report, { have: 250, need: 252, via: relayA.url, down: { stored: 252, refused: 0 }, up: { accepted: 250 } })
  t.match(s.stderr, /down through the relay at ws:\/\/127\.0\.0\.1:\d+: stored 252/)
  t.equal(stored(b), 4_500 + 250 + 250 + 2, 'B gained the 250 events only A had')
  // A's market delivered the pulled job: its request reached the running relay before its result.
  t.match(jobRow(a, jobB[0].id), { state: 'delivered', result_id: jobB[1].id })
  const again = await runSync(relayB.url, ['--data', a, '--port', port, '--direction', 'down'])
  t.match(again.report, { need: 0, down: { stored: 0 } }, 'nothing is left to pull')
})

t.test('sync beside a running relay whose port the config leaves at 0 stops and asks for --port', async t => {
  const dir = tempDir(t)
  const a = await importInto(t, dir, 'a', corpus(10, 2))
  const other = await importInto(t, dir, 'b', corpus(10, 3))
  const [, relayB] = [await startCli(t, a), await startCli(t, other)]
  const s = await runSync(relayB.url, ['--data', a, '--port', '0'])
  t.equal(s.code, 1, 'sync exits 1')
  t.match(s.stderr, /agora: data dir .* is in use by pid \d+ .*; its port is 0 in the config: give it with --port/)
})

t.test('--filter narrows the sync to matching events, and --direction down pushes nothing', async t => {
  const dir = tempDir(t)
  const { shared, onlyA, onlyB } = split(corpus(600, 4), 5)
  const a = await importInto(t, dir, 'a', [...shared, ...onlyA])
  const b = await importInto(t, dir, 'b', [...shared, ...onlyB])
  const relayB = await startCli(t, b)
  const kind7 = (es: NostrEvent[]) => es.filter(e => e.kind === 7).length
  const s = await runSync(relayB.url, ['--data', a, '--filter', '{"kinds":[7]}', '--direction', 'down'])
  t.equal(s.code, 0, `sync exits 0; stderr: ${s.stderr.slice(-500)}`)
  t.ok(kind7(onlyA) > 0 && kind7(onlyB) > 0, 'both sides hold kind 7 events of their own')
  t.match(s.report, { have: kind7(onlyA), need: kind7(onlyB), down: { stored: kind7(onlyB) } })
  t.equal(s.report?.up, undefined, 'no up report')
  t.equal(stored(a), shared.length + onlyA.length + kind7(onlyB), 'A gained only the kind 7 events')
  t.equal(stored(b), shared.length + onlyB.length, 'B gained nothing')
})

t.test('events the remote refuses are reported with their prefix', async t => {
  const dir = tempDir(t)
  const { shared, onlyA } = split(corpus(300, 5), 5)
  const a = await importInto(t, dir, 'a', [...shared, ...onlyA])
  const b = await importInto(t, dir, 'b', shared)
  // B takes kinds 1 and 7 only; the other anti-spam policies stay off.
  const env = {
    AGORA_POLICIES_KIND_WHITELIST_KINDS: '1,7',
    AGORA_POLICIES_POW_ENABLED: 'false',
    AGORA_POLICIES_RATE_LIMIT_ENABLED: 'false',
  }
  const relayB = await spawnRelay(t, ['start', '--port', '0', '--data', b], { env, timeoutMs: 90_000 })
  const s = await runSync(relayB.url, ['--data', a, '--direction', 'up'])
  t.equal(s.code, 0, `sync exits 0; stderr: ${s.stderr.slice(-500)}`)
  const refused = onlyA.filter(e => e.kind === 1111).length
  t.ok(refused > 0, 'A holds kind 1111 events of its own')
  t.match(s.report?.up, { accepted: onlyA.length - refused, refused, refusals: { blocked: refused } })
  t.match(s.stderr, /^up: event [0-9a-f]{64}: blocked: /m, 'a refusal is named with its prefix')
  t.match(
    s.stderr,
    new RegExp(`up: accepted ${onlyA.length - refused}, duplicate 0, refused ${refused} \\(blocked: ${refused}\\)`),
  )
})

t.test('an unreachable relay URL ends the sync with exit code 1 and says so', async t => {
  const dir = tempDir(t)
  const r = await runCli(['sync', 'ws://127.0.0.1:1', '--data', join(dir, 'a')], { timeoutMs: 60_000 })
  t.equal(r.code, 1)
  t.match(r.stderr, /^agora: cannot reach ws:\/\/127\.0\.0\.1:1: ECONNREFUSED$/m)
})

t.test('a relay that refuses the negentropy session ends the sync with exit code 1 and its reason', async t => {
  const dir = tempDir(t)
  const a = await importInto(t, dir, 'a', corpus(20, 6))
  const b = await importInto(t, dir, 'b', corpus(20, 7))
  const env = { AGORA_LIMITS_MAX_NEGENTROPY_RECORDS: '10' }
  const relayB = await spawnRelay(t, ['start', '--port', '0', '--data', b, '--open'], { env, timeoutMs: 90_000 })
  const s = await runSync(relayB.url, ['--data', a])
  t.equal(s.code, 1)
  t.match(s.stderr, /^agora: ws:\/\/127\.0\.0\.1:\d+ refused negentropy: blocked: more than 10 events match/m)
  t.equal(stored(a), 20, 'nothing was written')
})
