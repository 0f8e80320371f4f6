// A hostile upstream cannot flood a mirroring relay (DESIGN §11, mirroring): past its budget per minute, or past a
// few garbage frames, it is cut off for a backoff and the cut is logged; it is tried again later; what it forged is
// refused; and the relay keeps answering its own clients meanwhile. The upstream is a bare WebSocket server on
// loopback (bench/flood-upstream.ts) that answers every REQ with a flood.
import Database from 'better-sqlite3'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { bulkSigner } from '../../bench/bulk-sign.js'
import { startFloodUpstream } from '../../bench/flood-upstream.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { databaseFile, startRelay } from '../../relay/app.js'
import { connectFor } from '../helpers/client.js'
import { now, signer } from '../helpers/events.js'
import { tempDir, testConfig } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

type Line = { level: number; component?: string; upstream?: string; reason?: string; msg: string }
const WARN = 40

/** A relay mirroring `url` with these entry settings, logging to lines the test reads. */
async function mirroring(t: Test, url: string, entry: Record<string, unknown>) {
  const lines: Line[] = []
  const log = pino({ level: 'info', base: undefined }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) })
  const dataDir = tempDir(t)
  const cfg = testConfig(dataDir, { 'log.level': 'info', mirror: JSON.stringify([{ url, ...entry }]) })
  const relay = await startRelay(cfg, undefined, log)
  t.teardown(() => relay.close())
  return { relay, dataDir, lines }
}

const cutOffs = (lines: Line[]) =>
  lines.filter(l => l.component === 'mirror' && l.level === WARN && /^mirror: cut off /.test(l.msg))

/** Ids of the events the relay stored among `ids`. */
function storedAmong(dataDir: string, ids: readonly string[]): string[] {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    const q = db.prepare('SELECT 1 FROM events WHERE id = ?').pluck()
    return ids.filter(id => q.get(id) === 1)
  } finally {
    db.close()
  }
}

/** `n` valid reports (kind 1984, in the mirror's default filter) from one fast key. */
const reports = (n: number): NostrEvent[] =>
  bulkSigner().signAll(
    Array.from({ length: n }, (_, i) => ({
      kind: 1984,
      created_at: now() - i,
      tags: [['p', 'a'.repeat(64), 'spam']],
      content: `flood ${i}`,
    })),
  )

t.test(
  'an upstream sending 10 times its budget is cut off, logged and tried again; local clients are served',
  async t => {
    const budget = 60
    const flood = reports(10 * budget)
    const up = await startFloodUpstream({ events: flood, perReq: flood.length })
    t.teardown(() => up.close())
    const { relay, dataDir, lines } = await mirroring(t, up.url, { events_per_minute: budget, catch_up_interval: 0 })

    // While the upstream floods and is cut off, a local client publishes and reads, and is answered each time.
    const c = await connectFor(t, relay.url)
    const me = signer()
    let answered = 0
    while (cutOffs(lines).length === 0 || up.connects() < 2) {
      const e = me.sign({ kind: 1, content: `local ${answered}` })
      t.same(await c.publish(e), ['OK', e.id, true, ''], 'a local EVENT is stored')
      const r = await c.req(`local-${answered}`, { ids: [e.id] })
      t.same(
        r.events.map(x => x.id),
        [e.id],
        'and a local REQ answered',
      )
      c.send(['CLOSE', `local-${answered}`])
      answered++
      if (answered > 2000) break
    }
    const cut = cutOffs(lines)[0]
    t.ok(cut, 'the cut-off is logged at warn')
    t.match(cut, { upstream: up.url, reason: `over its budget of ${budget} events per minute` })
    t.ok(up.connects() >= 2, `the upstream is tried again after its backoff (${up.connects()} connections)`)
    const stored = storedAmong(
      dataDir,
      flood.map(e => e.id),
    )
    // The bucket holds a minute's budget and refills at a token a second while the test runs.
    t.ok(stored.length >= budget / 2, `the upstream's events within the budget are stored (${stored.length})`)
    t.ok(stored.length <= budget + 15, `at most about the budget is stored (${stored.length} of ${flood.length} sent)`)
  },
)

t.test('an upstream sending garbage frames and a forged event is cut off; its valid events are kept', async t => {
  const [a, c] = reports(2)
  const forged = { ...reports(1)[0]!, content: 'changed after signing' }
  const badSig = { ...reports(1)[0]! }
  badSig.sig = badSig.sig.replace(/^./, ch => (ch === '0' ? '1' : '0'))
  const garbage = ['not json', '{"an": "object"}', '["EVENT", "s1", {"no": "id"}]']
  const up = await startFloodUpstream({ events: [a!, forged, badSig, c!], perReq: 40, garbage, garbageEvery: 1 })
  t.teardown(() => up.close())
  const { dataDir, lines } = await mirroring(t, up.url, { catch_up_interval: 0 })
  await waitFor(() => cutOffs(lines).length > 0, 'the cut-off', 30_000)
  t.match(cutOffs(lines)[0], { upstream: up.url, reason: /^more than 20 garbage frames/ })
  await waitFor(() => storedAmong(dataDir, [a!.id, c!.id]).length === 2, 'the valid events', 30_000)
  t.same(storedAmong(dataDir, [forged.id, badSig.id]), [], 'the forged ones are refused')
})
