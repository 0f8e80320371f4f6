// DESIGN §10: the SQL query path, COUNT and the live matcher return exactly what nostr-tools' matchFilter says,
// on random events and filters (strfry-style filter fuzzing). Regular kinds only, so nothing replaces anything.
import t from 'tap'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { matchFilter as referenceMatch, type Filter } from 'nostr-tools/filter'
import { initNostrWasm } from 'nostr-wasm'
import { isRejection, type NostrEvent } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import type { Conn, Sub } from '../../relay/connection.js'
import { createSubscriptionIndex } from '../../relay/subscriptions.js'
import { rawClient } from '../helpers/client.js'
import { now } from '../helpers/events.js'
import { startTestRelay, tempDir } from '../helpers/relay.js'
import { openTestStore } from '../helpers/store.js'

const nw = await initNostrWasm()
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// A small world so that filters hit: 4 authors, 4 regular kinds, 6 seconds (ties), few tag values.
const KEYS = [1, 2, 3, 4].map(i => new Uint8Array(32).fill(i))
const PUBKEYS = KEYS.map(sk => toHex(nw.getPublicKey(sk)))
const STRANGER = 'f'.repeat(64)
const KINDS = [1, 7, 1000, 5100]
const BASE = now() - 3600 // inside the relay's created_at window for the server-level run
const SPAN = 6
const HEX_VALUES = ['1'.repeat(64), '2'.repeat(64), PUBKEYS[0]!, PUBKEYS[1]!]
const WORDS = ['x', 'y', 'z', '']
const DEFAULT_LIMIT = 500
const LIMITS = { maxValues: 500 }

type EventSpec = { key: number; kind: number; at: number; tags: string[][]; content: string }
/** Ids are drawn as indexes into the run's events (so they hit) or null for an id nobody has. */
type FilterSpec = Omit<Filter, 'ids'> & { ids?: (number | null)[] }

const tagArb: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom('e', 'p'), fc.constantFrom(...HEX_VALUES)).map(([n, v]) => [n, v]),
  fc.tuple(fc.constantFrom('e', 'p'), fc.constantFrom(...HEX_VALUES)).map(([n, v]) => [n, v, 'wss://relay.example']),
  fc.tuple(fc.constantFrom('a', 't'), fc.constantFrom(...WORDS)).map(([n, v]) => [n, v]),
  // Only the first value is indexed: ["t","x","y"] must not match #t:["y"].
  fc
    .tuple(fc.constantFrom('a', 't'), fc.constantFrom(...WORDS), fc.constantFrom(...WORDS))
    .map(([n, v, w]) => [n, v, w]),
  fc.constantFrom<string[]>(['t'], ['alt', 'x']),
)

const eventArb: fc.Arbitrary<EventSpec> = fc.record({
  key: fc.nat(KEYS.length - 1),
  kind: fc.constantFrom(...KINDS),
  at: fc.nat(SPAN - 1),
  tags: fc.array(tagArb, { maxLength: 4 }),
  content: fc.constantFrom('', 'a', 'b'),
})

// Never 0: nostr-tools ignores since/until when falsy.
const timeArb = fc.integer({ min: -1, max: SPAN }).map(d => BASE + d)
const FILTER_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  ids: fc.array(fc.option(fc.nat(40), { freq: 4 }), { maxLength: 3 }),
  authors: fc.subarray([...PUBKEYS.slice(0, 3), STRANGER], { maxLength: 2 }),
  kinds: fc.subarray([...KINDS, 2], { maxLength: 3 }),
  '#e': fc.subarray(HEX_VALUES, { maxLength: 2 }),
  '#p': fc.subarray(HEX_VALUES, { maxLength: 2 }),
  '#t': fc.subarray(WORDS, { maxLength: 2 }),
  '#a': fc.subarray(WORDS, { maxLength: 2 }),
  since: timeArb,
  until: timeArb,
  limit: fc.nat(12),
}
const filterArb: fc.Arbitrary<FilterSpec> = fc
  .subarray(Object.keys(FILTER_FIELDS), { maxLength: 3 })
  .chain(keys => fc.record(Object.fromEntries(keys.map(k => [k, FILTER_FIELDS[k]!]))) as fc.Arbitrary<FilterSpec>)
const reqArb = fc.array(filterArb, { minLength: 1, maxLength: 3 })

/** Signs the specs with nostr-wasm (which computes the real NIP-01 id). */
function sign(specs: readonly EventSpec[]): NostrEvent[] {
  return specs.map(s => {
    const e = {
      id: '',
      pubkey: '',
      sig: '',
      kind: s.kind,
      created_at: BASE + s.at,
      tags: s.tags.map(x => [...x]),
      content: s.content,
    }
    nw.finalizeEvent(e, KEYS[s.key]!)
    return e
  })
}

/** A filter as sent on the wire: id indexes resolved against the run's events. */
function resolve(f: FilterSpec, events: readonly NostrEvent[]): Filter {
  const { ids, ...rest } = f
  if (!ids) return rest
  return { ...rest, ids: ids.map(i => (i === null || events.length === 0 ? STRANGER : events[i % events.length]!.id)) }
}

const byNewest = (a: NostrEvent, b: NostrEvent) =>
  b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** One copy per id, as the store keeps them. */
function unique(events: readonly NostrEvent[]): NostrEvent[] {
  return [...new Map(events.map(e => [e.id, e] as const)).values()]
}

/** NIP-01 REQ answer: per filter the newest `limit` matches, merged without duplicates, newest first. */
function referenceQuery(filters: readonly Filter[], stored: readonly NostrEvent[]): string[] {
  const out = new Map<string, NostrEvent>()
  for (const f of filters) {
    const hits = stored
      .filter(e => referenceMatch(f, e))
      .sort(byNewest)
      .slice(0, f.limit ?? DEFAULT_LIMIT)
    for (const e of hits) out.set(e.id, e)
  }
  return [...out.values()].sort(byNewest).map(e => e.id)
}

function compile(filters: readonly Filter[]): CompiledFilter[] {
  return filters.map(f => {
    const c = compileFilter(f, LIMITS)
    assert.ok(!isRejection(c), `generated filter was refused: ${JSON.stringify(f)} ${JSON.stringify(c)}`)
    return c as CompiledFilter
  })
}

type Run = { specs: EventSpec[]; reqs: FilterSpec[][] }
const runArb: fc.Arbitrary<Run> = fc.record({
  specs: fc.array(eventArb, { maxLength: 30 }),
  reqs: fc.array(reqArb, { minLength: 1, maxLength: 8 }),
})
// Always tried first: one event with two first values that one filter both asks for (it must count once).
const twoValues: Run = {
  specs: [
    {
      key: 0,
      kind: 1,
      at: 0,
      tags: [
        ['t', 'x'],
        ['t', 'y'],
        ['e', HEX_VALUES[0]!],
        ['e', HEX_VALUES[1]!],
      ],
      content: '',
    },
  ],
  reqs: [[{ '#t': ['x', 'y'] }], [{ '#e': [HEX_VALUES[0]!, HEX_VALUES[1]!], kinds: [1] }]],
}
const PARAMS = { interruptAfterTimeLimit: 20_000, examples: [[twoValues]] as [Run][] }

/** fast-check's report plus the failing assertion. */
const report = (r: fc.RunDetails<[Run]>) =>
  `${fc.defaultReportMessage(r) ?? ''}\n${r.errorInstance instanceof Error ? r.errorInstance.message : ''}`

/** Runs `body` against a fresh store holding the run's events. */
function withStore(dir: string) {
  let n = 0
  return async <T>(events: readonly NostrEvent[], body: (s: ReturnType<typeof openTestStore>) => T): Promise<T> => {
    const name = `run-${n++}.sqlite`
    const store = openTestStore(dir, name)
    try {
      const outcomes = await Promise.all(events.map(e => store.save(e)))
      for (const o of outcomes)
        assert.notEqual(o.status, 'rejected', `a regular event was refused: ${JSON.stringify(o)}`)
      return body(store)
    } finally {
      await store.close()
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, name + suffix), { force: true })
    }
  }
}

t.test(
  'stored-event queries return the matchFilter matches newest first, lowest id on ties, each filter up to its limit',
  async t => {
    const run = withStore(tempDir(t))
    let hits = 0
    const result = await fc.check(
      fc.asyncProperty(runArb, async ({ specs, reqs }) => {
        const events = sign(specs)
        const stored = unique(events)
        await run(events, store => {
          for (const req of reqs) {
            const filters = req.map(f => resolve(f, events))
            const compiled = compile(filters)
            const got = store.reader
              .query(
                compiled.map(f => ({ filter: f, limit: f.limit ?? DEFAULT_LIMIT })),
                now(),
                10_000,
              )
              .map(r => r.id)
            const want = referenceQuery(filters, stored)
            hits += want.length
            assert.deepEqual(got, want, `REQ ${JSON.stringify(filters)}`)
          }
        })
      }),
      { numRuns: 200, ...PARAMS },
    )
    t.notOk(result.failed, result.failed ? report(result) : 'no counterexample')
    t.ok(hits > 0, `the generated filters matched something (${result.numRuns} runs, ${hits} matches)`)
  },
)

t.test('COUNT equals the number of distinct stored events matching any filter', async t => {
  const run = withStore(tempDir(t))
  let hits = 0
  const result = await fc.check(
    fc.asyncProperty(runArb, async ({ specs, reqs }) => {
      const events = sign(specs)
      const stored = unique(events)
      await run(events, store => {
        for (const req of reqs) {
          const filters = req.map(f => resolve(f, events))
          const want = stored.filter(e => filters.some(f => referenceMatch(f, e))).length
          hits += want
          assert.equal(store.reader.count(compile(filters), now()), want, `COUNT ${JSON.stringify(filters)}`)
        }
      })
    }),
    { numRuns: 200, ...PARAMS },
  )
  t.notOk(result.failed, result.failed ? report(result) : 'no counterexample')
  t.ok(hits > 0, `the generated filters matched something (${result.numRuns} runs, ${hits} matches)`)
})

t.test('the live subscription index matches an event exactly when matchFilter does', async t => {
  let hits = 0
  const result = fc.check(
    fc.property(runArb, ({ specs, reqs }) => {
      const events = sign(specs)
      const index = createSubscriptionIndex()
      const subs = reqs.map((req, i) => {
        const filters = req.map(f => resolve(f, events))
        const sub: Sub = { conn: {} as Conn, id: `s${i}`, filters: compile(filters) }
        index.add(sub)
        return { sub, filters }
      })
      for (const e of events) {
        const matched = index.match(e)
        hits += matched.size
        for (const { sub, filters } of subs)
          assert.equal(
            matched.has(sub),
            filters.some(f => referenceMatch(f, e)),
            `event ${JSON.stringify(e)} vs ${JSON.stringify(filters)}`,
          )
        assert.ok(
          [...matched].every(s => subs.some(x => x.sub === s)),
          'only registered subscriptions are returned',
        )
      }
    }),
    { numRuns: 400, ...PARAMS },
  )
  t.notOk(result.failed, result.failed ? report(result) : 'no counterexample')
  t.ok(hits > 0, `the generated filters matched something (${result.numRuns} runs, ${hits} matches)`)
})

t.test('REQ over the wire returns the matchFilter matches in NIP-01 order', async t => {
  let sub = 0
  let hits = 0
  const result = await fc.check(
    fc.asyncProperty(runArb, async ({ specs, reqs }) => {
      const teardowns: (() => unknown)[] = []
      try {
        const { url } = await startTestRelay({ teardown: fn => teardowns.push(fn) }, { 'verifier.backend': 'wasm' })
        const client = await rawClient(url)
        teardowns.push(() => client.close())
        const events = sign(specs)
        const oks = await Promise.all(events.map(e => client.publish(e)))
        for (const ok of oks) assert.equal(ok[2], true, `publish refused: ${JSON.stringify(ok)}`)
        const stored = unique(events)
        for (const req of reqs) {
          const filters = req.map(f => resolve(f, events))
          const id = `p${sub++}`
          const res = await client.req(id, ...filters)
          assert.equal(res.closed, undefined, `REQ refused: ${JSON.stringify(res.closed)}`)
          client.send(['CLOSE', id])
          const want = referenceQuery(filters, stored)
          hits += want.length
          assert.deepEqual(
            res.events.map(e => e.id),
            want,
            `REQ ${JSON.stringify(filters)}`,
          )
        }
      } finally {
        for (const fn of teardowns.reverse()) await fn()
      }
    }),
    { numRuns: 12, ...PARAMS },
  )
  t.notOk(result.failed, result.failed ? report(result) : 'no counterexample')
  t.ok(hits > 0, `the generated filters matched something (${result.numRuns} runs, ${hits} matches)`)
})
