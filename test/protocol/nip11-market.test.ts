// NIP-11 `market` (docs/market-protocol.md, Escrow): the terms an escrow lock must meet, from the effective config,
// present only with the market on, following the keys that reload; a lock built from them is the one accepted.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, type ConfigSources } from '../../config/load.js'
import type { MarketInfo } from '../../nips/nip11.js'
import { startRelay } from '../../relay/app.js'
import { configToml } from '../helpers/config-file.js'
import { escrowMarket, lockEvent, lockProofs } from '../helpers/escrow.js'
import { now } from '../helpers/events.js'
import { accepted, refused, request } from '../helpers/market.js'
import { INLINE, startTestRelay, tempDir } from '../helpers/relay.js'

type Info = { market?: MarketInfo }

/** The NIP-11 document of the relay at a ws:// URL. */
async function info(url: string): Promise<Info> {
  const res = await fetch(url.replace(/^ws:/, 'http:'), { headers: { Accept: 'application/nostr+json' } })
  return (await res.json()) as Info
}

t.test('NIP-11 market states the configured windows, mints and market clocks', async t => {
  const { url } = await startTestRelay(t, {
    'market.enabled': true,
    'market.job_ttl': 7200,
    'market.dispute_window': 1800,
    'market.escrow_margin': 120,
    'market.mints': ['https://Mint.Example.com/', 'http://127.0.0.1:3338'],
    'market.offline_after': 300,
    'market.flag_threshold': 5,
    'market.standing_interval': 10,
  })
  t.strictSame((await info(url)).market, {
    job_ttl: 7200,
    dispute_window: 1800,
    escrow_margin: 120,
    mints: ['https://mint.example.com', 'http://127.0.0.1:3338'],
    offline_after: 300,
    flag_threshold: 5,
    standing_interval: 10,
    escrow: true,
  })
})

t.test('NIP-11 market gives the defaults, with mints [] meaning any mint the provider names', async t => {
  const { url } = await startTestRelay(t, { 'market.enabled': true })
  t.strictSame((await info(url)).market, {
    job_ttl: 86400,
    dispute_window: 86400,
    escrow_margin: 3600,
    mints: [],
    offline_after: 600,
    flag_threshold: 3,
    standing_interval: 30,
    escrow: true,
  })
})

t.test('NIP-11 has no market field when market.enabled is false', async t => {
  const { url } = await startTestRelay(t, { 'market.enabled': false })
  const doc = await info(url)
  t.notOk('market' in doc, 'no market field')
})

t.test('NIP-11 market follows a reload of mints and offline_after, and keeps restart keys until a restart', async t => {
  const dir = tempDir(t, 'agora-market-reload-')
  const file = join(dir, 'agora.toml')
  const write = (market: string[]) =>
    writeFileSync(
      file,
      configToml({ dataDir: join(dir, 'data'), kinds: ['0'], extra: ['[market]', ...market].join('\n') }),
    )
  write(['enabled = true', 'job_ttl = 3600', 'offline_after = 600', 'mints = ["https://a.example.com"]'])
  const sources: ConfigSources = { file, env: {}, flags: INLINE }
  const relay = await startRelay(loadConfig(sources), sources)
  t.teardown(() => relay.close())
  t.match((await info(relay.url)).market, { job_ttl: 3600, offline_after: 600, mints: ['https://a.example.com'] })

  write([
    'enabled = true',
    'job_ttl = 7200',
    'offline_after = 120',
    'mints = ["https://b.example.com", "https://c.example.com"]',
  ])
  t.same(
    relay.reload(),
    {
      ok: true,
      changes: [
        { key: 'market.offline_after', from: 600, to: 120 },
        {
          key: 'market.mints',
          from: ['https://a.example.com'],
          to: ['https://b.example.com', 'https://c.example.com'],
        },
      ],
      pending: ['market.job_ttl'],
    },
    'job_ttl needs a restart',
  )
  t.match(
    (await info(relay.url)).market,
    { job_ttl: 3600, offline_after: 120, mints: ['https://b.example.com', 'https://c.example.com'] },
    'the reloaded keys change, job_ttl keeps the value the relay enforces',
  )

  write(['enabled = true', 'job_ttl = 3600', 'offline_after = 120', 'mints = []'])
  const emptied = { key: 'market.mints', from: ['https://b.example.com', 'https://c.example.com'], to: [] }
  t.same(relay.reload(), { ok: true, changes: [emptied], pending: [] })
  t.strictSame((await info(relay.url)).market?.mints, [], 'an emptied allow list is [] again')

  write(['enabled = false', 'job_ttl = 3600'])
  t.same(
    relay.reload(),
    { ok: true, changes: [{ key: 'market.offline_after', from: 120, to: 600 }], pending: ['market.enabled'] },
    'turning the market off needs a restart',
  )
  t.ok((await info(relay.url)).market, 'the market still runs, so the field stays')
})

t.test('a lock whose locktime is the advertised sum after receipt is accepted, one second less is refused', async t => {
  const m = await escrowMarket(t)
  const market = (await info(m.url)).market!
  const room = market.job_ttl + market.dispute_window + market.escrow_margin
  const req = request(m.customer, { bid: 21_000 })
  const before = now()
  await accepted(t, m.c, req, 'the request')
  const after = now()

  const early = await lockProofs(m.wallet, 21, m.keys, { locktime: before + room - 1 })
  const ok = await m.c.publish(lockEvent(m.customer, req.id, m.provider.pubkey, m.mint.url, early))
  t.equal(ok[2], false, 'one second before the earliest receipt time + the sum is refused')
  t.match(String(ok[3]), /^invalid: escrow: locktime \d+ is before \d+ \(job deadline/, 'naming the minimum')
  const min = Number(/is before (\d+) /.exec(String(ok[3]))?.[1])
  t.ok(min - room >= before && min - room <= after, 'the relay computed its minimum from the advertised values')

  const proofs = await lockProofs(m.wallet, 21, m.keys, { locktime: after + room })
  await accepted(t, m.c, lockEvent(m.customer, req.id, m.provider.pubkey, m.mint.url, proofs), 'the lock')
})

t.test('a lock at a mint outside the advertised mints is refused as not allowed here', async t => {
  const m = await escrowMarket(t, { 'market.mints': ['https://elsewhere.example.com'] })
  const market = (await info(m.url)).market!
  t.strictSame(market.mints, ['https://elsewhere.example.com'])
  t.notOk(market.mints.includes(m.mint.url), 'the fixture mint is not advertised')
  const req = request(m.customer, { bid: 21_000 })
  await accepted(t, m.c, req, 'the request')
  const proofs = await lockProofs(m.wallet, 21, m.keys)
  const lock = lockEvent(m.customer, req.id, m.provider.pubkey, m.mint.url, proofs)
  await refused(t, m.c, lock, 'invalid', /is not allowed here$/, 'a lock at a mint not advertised')
})
