// Mirroring (DESIGN §11): a relay copies an upstream agora's market events through its own write path. The market
// judges them as local events (a stranger's result moves nothing, reports count by standing), each records the
// upstream it was seen on, the ledger and the page say so, a restart resumes from the stored position, and the
// door policies (PoW here) do not apply to them while they still do to local clients.
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import type { NostrEvent } from '../../nips/nip01.js'
import { databaseFile } from '../../relay/app.js'
import { connectFor, type RawClient } from '../helpers/client.js'
import { signer, type Author } from '../helpers/events.js'
import {
  jobRow,
  ledgerWhen,
  outputWhen,
  report,
  request,
  restartMarket,
  result,
  roots,
  startMarket,
  tag,
} from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'
import { waitFor } from '../helpers/wait.js'

/** Reads the mirroring relay's store beside it (read-only, a connection per call). */
function read<T>(dataDir: string, f: (db: Database.Database) => T): T {
  const db = new Database(databaseFile(dataDir), { readonly: true })
  try {
    return f(db)
  } finally {
    db.close()
  }
}

const has = (dataDir: string, id: string) =>
  read(dataDir, db => db.prepare('SELECT 1 FROM events WHERE id = ?').pluck().get(id) === 1)

/** The upstream urls an event was seen on. */
const seenOn = (dataDir: string, id: string) =>
  read(dataDir, db =>
    db
      .prepare(
        `SELECT u.url FROM mirror_seen s JOIN mirror_upstreams u ON u.id = s.upstream
         JOIN events e ON e.seq = s.seq WHERE e.id = ? ORDER BY u.url`,
      )
      .pluck()
      .all(id),
  )

const position = (dataDir: string, url: string) =>
  read(dataDir, db => db.prepare('SELECT position FROM mirror_upstreams WHERE url = ?').pluck().get(url) as number)

async function publishAll(t: Test, c: RawClient, ...events: NostrEvent[]) {
  for (const e of events) t.same(await c.publish(e), ['OK', e.id, true, ''], `upstream took kind ${e.kind}`)
}

/** An upstream agora with the market off (it stores whatever is well signed), and a client of it. */
async function upstream(t: Test) {
  const up = await startTestRelay(t, { 'market.enabled': false })
  return { ...up, c: await connectFor(t, up.url) }
}

const mirrorOf = (url: string, more: Record<string, unknown> = {}) => ({ mirror: JSON.stringify([{ url, ...more }]) })

t.test('a job, its delivery and three customers’ reports mirrored from an upstream count as local ones', async t => {
  const up = await upstream(t)
  const customers: Author[] = [signer(), signer(), signer()]
  const provider = signer()
  // The customers are roots here: their reports carry full standing, once they are customers of delivered jobs.
  let m = await startMarket(t, { ...roots(...customers), ...mirrorOf(up.url) })
  const jobs: NostrEvent[] = []
  for (const k of customers) {
    const req = request(k, { bid: 1_000, targets: [provider.pubkey] })
    jobs.push(req)
    await publishAll(t, up.c, req, result(provider, req, { amount: 1_000 }))
  }
  for (const req of jobs)
    await waitFor(() => jobRow(m.dataDir, req.id)?.state === 'delivered', 'each mirrored job delivered', 30_000)
  t.match(jobRow(m.dataDir, jobs[0]!.id), { state: 'delivered', provider: provider.pubkey, amount_msats: 1_000 })

  const ledger = await ledgerWhen(m, jobs[0]!.id, 'delivered')
  t.same(
    ledger.tags.find(x => x[0] === 'seen_on'),
    ['seen_on', up.url],
    'the ledger says where the job was seen',
  )
  t.same(seenOn(m.dataDir, jobs[0]!.id), [up.url], 'the request records its upstream')

  await publishAll(t, up.c, ...customers.map(k => report(k, provider.pubkey)))
  const flagged = await outputWhen(
    m.c,
    m.relay.pubkey,
    30382,
    provider.pubkey,
    e => tag(e, 'flagged') === '1',
    'the provider flagged by three reports of full standing',
  )
  t.same(
    flagged.tags.find(x => x[0] === 'input' && x[1] === 'reports'),
    ['input', 'reports', '3', '3'],
  )

  // A stranger's result to a direct request: the upstream (market off) keeps it; mirrored, the market refuses it.
  // Another bid than the first job's, or in the same second the two requests would be one event.
  const direct = request(customers[0]!, { bid: 2_000, targets: [provider.pubkey] })
  const forged = result(signer(), direct)
  const after = report(signer(), provider.pubkey)
  await publishAll(t, up.c, direct, forged, after)
  // One upstream's events reach the writer in order: once the later report is in, the forged result was judged.
  await waitFor(() => has(m.dataDir, after.id), 'the event after the forgery', 30_000)
  t.notOk(has(m.dataDir, forged.id), "the stranger's result is not stored")
  t.match(jobRow(m.dataDir, direct.id), { state: 'open', provider: null }, 'and moves nothing')

  const at = position(m.dataDir, up.url)
  t.ok(at >= after.created_at - 1, `the position (${at}) is stored`)
  // Down, then up again on its store: what the upstream took meanwhile arrives from the position.
  await m.relay.close()
  const meanwhile = report(signer(), provider.pubkey)
  await publishAll(t, up.c, meanwhile)
  m = await restartMarket(t, m)
  await waitFor(() => has(m.dataDir, meanwhile.id), 'the event published while the mirror was down', 30_000)
  t.same(seenOn(m.dataDir, meanwhile.id), [up.url])
})

t.test(
  'the door policies do not apply to mirrored events: an unmined report comes in, the same sent here does not',
  async t => {
    const up = await upstream(t)
    const local = await startTestRelay(t, {
      'policies.open': false,
      'policies.pow.rules': ['1984:12'],
      ...mirrorOf(up.url),
    })
    const who = signer()
    const mirrored = report(who, signer().pubkey)
    const sentHere = report(who, signer().pubkey)
    await publishAll(t, up.c, mirrored)
    await waitFor(() => has(local.dataDir, mirrored.id), 'the mirrored report', 30_000)
    t.same(seenOn(local.dataDir, mirrored.id), [up.url])
    const c = await connectFor(t, local.url)
    for (const e of [sentHere, mirrored]) {
      const ok = await c.publish(e)
      t.equal(ok[2], false, 'a local client is refused')
      t.match(String(ok[3]), /^pow: kind 1984 needs 12 bits/, 'with pow:')
    }
    t.notOk(has(local.dataDir, sentHere.id), 'and the refused event is not stored')
  },
)
