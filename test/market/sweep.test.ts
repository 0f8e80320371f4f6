// NIP-40 sweeps and the market: an open job whose request expires is gone; a delivered job's request and
// result stay stored (hidden from readers) as its record, so a rebuild still finds them.
import t from 'tap'
import { rebuildMarket } from '../../market/rebuild.js'
import { now, signer } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'
import { openTestStore, testMarketRules } from '../helpers/store.js'

t.test("the sweeper keeps a delivered job's record and drops an expired open job", async t => {
  const store = openTestStore(tempDir(t), 'agora.sqlite', testMarketRules(86400))
  t.teardown(() => store.close())
  const [customer, provider] = [signer(), signer()]
  const at = now()
  const expiring = (content: string) =>
    customer.sign({
      kind: 5100,
      content,
      tags: [
        ['bid', '1000'],
        ['expiration', String(at + 100)],
      ],
    })
  const delivered = expiring('delivered')
  const open = expiring('open')
  const result = provider.sign({
    kind: 6100,
    tags: [
      ['e', delivered.id],
      ['expiration', String(at + 100)],
    ],
  })
  for (const e of [delivered, open, result]) t.equal((await store.save(e)).status, 'saved')
  const jobs = () => store.db.prepare('SELECT id, state FROM market_jobs ORDER BY id').all()
  t.same(
    jobs(),
    [
      { id: delivered.id, state: 'delivered' },
      { id: open.id, state: 'open' },
    ].sort((a, b) => (a.id < b.id ? -1 : 1)),
  )

  t.equal(store.writer.sweepExpired(at + 100), 1, 'only the open job request is swept')
  const stored = store.db.prepare('SELECT id FROM events ORDER BY id').pluck().all()
  t.same(stored, [delivered.id, result.id].sort(), "the delivered job's request and result stay stored")
  t.same(jobs(), [{ id: delivered.id, state: 'delivered' }], 'the expired open job is gone')
  t.same(
    store.reader.query(
      [{ filter: { tags: [], ids: new Set([delivered.id]), never: false }, limit: 5 }],
      at + 200,
      1000,
    ),
    [],
    'readers never see the expired record',
  )

  const live = jobs()
  rebuildMarket(store.db)
  t.same(jobs(), live, 'a rebuild after the sweep agrees')
})

t.test(
  'an open job without a result for market.job_ttl seconds is expired by the sweep and takes no result',
  async t => {
    const store = openTestStore(tempDir(t), 'agora.sqlite', testMarketRules(60))
    t.teardown(() => store.close())
    const [customer, provider] = [signer(), signer()]
    const req = customer.sign({ kind: 5100, tags: [['bid', '1000']] })
    const fresh = customer.sign({ kind: 5100, tags: [['bid', '1000']], content: 'later' })
    t.equal((await store.save(req)).status, 'saved')
    const state = (id: string) => store.db.prepare('SELECT state FROM market_jobs WHERE id = ?').pluck().get(id)
    // The ttl runs on the relay's clock from receipt: 59 s later the job is still open.
    store.writer.sweepExpired(now() + 59 - 1)
    t.equal(state(req.id), 'open')
    const sweptAt = now() + 61
    store.writer.sweepExpired(sweptAt)
    t.equal(state(req.id), 'expired', 'expired once the ttl has passed')
    const live = store.db.prepare('SELECT id, state FROM market_jobs ORDER BY id').all()
    rebuildMarket(store.db, { jobTtl: 60, at: sweptAt })
    t.same(store.db.prepare('SELECT id, state FROM market_jobs ORDER BY id').all(), live, 'a rebuild expires it too')

    const late = await store.save(provider.sign({ kind: 6100, tags: [['e', req.id]] }))
    t.match(late, { status: 'rejected', rejection: { prefix: 'restricted', reason: /expired before delivery/ } })
    t.equal((await store.save(fresh)).status, 'saved')
    t.equal(state(fresh.id), 'open', 'a job received after the sweep is open')
  },
)
