// Escrow locks over WebSocket (DESIGN §7.5): a customer locks Cashu proofs minted by the real cashu-ts Wallet at
// the fixture mint, 2-of-3 {provider, customer, relay} with SIG_ALL and a refund to the customer; the relay
// checks the lock offline (keysets and info fetched once from the mint) and against the job, and a locked job
// takes results only from the escrowed provider. Each refused lock the issue names has a case here.
import t from 'tap'
import type { Proof } from '@cashu/cashu-ts'
import { startFixtureMint } from '../fixtures/mint/index.js'
import { signer, now } from '../helpers/events.js'
import { accepted, jobRow, outputWhen, rebuildsTheSame, refused, request, result, tag } from '../helpers/market.js'
import {
  escrowMarket,
  lockEvent,
  lockProofs,
  openMint,
  proofJson,
  type Changes,
  type FixtureMint,
} from '../helpers/escrow.js'
import Database from 'better-sqlite3'
import { databaseFile } from '../../relay/app.js'
import { runCli } from '../helpers/cli.js'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { tempDir } from '../helpers/relay.js'
import { issueProofs, makeMintKeys, p2pkSecret } from '../helpers/cashu.js'

t.test('a lock of the right shape locks the job to its provider; only that provider delivers', async t => {
  const m = await escrowMarket(t)
  const { c, customer, provider } = m
  const req = request(customer, { bid: 21_000 })
  await accepted(t, c, req, 'the request')
  const proofs = await lockProofs(m.wallet, 21, m.keys)
  const lock = lockEvent(customer, req.id, provider.pubkey, m.mint.url, proofs)
  // The wallets ask for the info too: count the relay's question as the difference.
  const infos = () => m.mint.requests.get('/v1/info') ?? 0
  const before = infos()
  await accepted(t, c, lock, 'the lock')
  t.match(jobRow(m.dataDir, req.id), { state: 'locked', provider: provider.pubkey })
  t.equal(infos(), before + 1, "the relay asked for the mint's info")
  const ledger = await outputWhen(c, m.relay.pubkey, 31118, req.id, e => tag(e, 'state') === 'locked', 'ledger')
  const escrow = ledger.tags.find(x => x[0] === 'escrow')
  t.strictSame(escrow?.slice(0, 4), ['escrow', lock.id, m.mint.url, '21'], 'the ledger names the lock, mint and value')

  await refused(t, c, result(signer(), req), 'restricted', /paid in escrow to another provider/, "a stranger's result")
  await refused(
    t,
    c,
    customer.sign({ kind: 5, tags: [['e', lock.id]] }),
    'restricted',
    /stays as the record/,
    'deleting the lock',
  )
  await refused(
    t,
    c,
    customer.sign({ kind: 5, tags: [['e', req.id]] }),
    'restricted',
    /paid in escrow/,
    'cancelling the request',
  )
  const again = lockEvent(customer, req.id, provider.pubkey, m.mint.url, await lockProofs(m.wallet, 21, m.keys))
  await refused(t, c, again, 'restricted', /already has an escrow lock/, 'a second lock')
  t.equal(infos(), before + 1, "and only once: the mint's info is cached")
  const res = result(provider, req, { amount: 21_000 })
  await accepted(t, c, res, "the escrowed provider's result")
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', provider: provider.pubkey, result_id: res.id })

  // The operator's list: one JSON line per escrow.
  const listed = await runCli(['escrow', 'list', '--data', m.dataDir])
  t.equal(listed.code, 0, listed.stderr)
  t.strictSame(
    listed.stdout
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as unknown),
    [
      {
        job: req.id,
        state: 'delivered',
        escrow: 'held',
        customer: customer.pubkey,
        provider: provider.pubkey,
        mint: m.mint.url,
        sats: 21,
        locktime: Number(escrow![4]),
        lock: lock.id,
      },
    ],
    'agora escrow list shows the escrow',
  )

  const db = new Database(databaseFile(m.dataDir), { readonly: true })
  t.equal(db.prepare('SELECT COUNT(*) FROM market_escrow_proofs').pluck().get(), proofs.length, 'each proof is pledged')
  db.close()
  // A rebuild reads the lock's verdict from facts_escrows and reaches the same tables.
  rebuildsTheSame(t, m)
})

t.test('each lock the issue names is refused with its rule, and nothing is stored', async t => {
  const m = await escrowMarket(t)
  const { c, customer, provider, keys } = m
  const req = request(customer, { bid: 21_000 })
  await accepted(t, c, req, 'the request')
  const lock = (proofs: readonly (Proof | string)[]) => lockEvent(customer, req.id, provider.pubkey, m.mint.url, proofs)
  const cases: [string, Changes, RegExp][] = [
    [
      'to the wrong key',
      { data: customer.pubkey },
      /^invalid: escrow: proof 1 is not locked to the provider’s 10019 key$/,
    ],
    ['with n_sigs 1', { nSigs: 1 }, /proof 1 must need n_sigs 2$/],
    ['without refund', { refund: false }, /proof 1 must have refund \[customer\]$/],
    ['without the relay', { cosigners: [customer.pubkey, signer().pubkey] }, /must have pubkeys \[customer, relay\]/],
    [
      'with a too-early locktime',
      { locktime: now() + 3600 },
      /locktime \d+ is before \d+ \(job deadline \+ dispute window \+ margin\)$/,
    ],
  ]
  for (const [what, o, reason] of cases)
    await refused(t, c, lock(await lockProofs(m.wallet, 21, keys, o)), 'invalid', reason, `a lock ${what}`)

  const good = await lockProofs(m.wallet, 21, keys)
  const tampered = good.map(p => {
    const j = JSON.parse(proofJson(p)) as { dleq: { e: string; s: string } }
    return JSON.stringify({ ...j, dleq: { ...j.dleq, s: j.dleq.e } })
  })
  await refused(t, c, lock(tampered), 'invalid', /proof 1 has an invalid DLEQ$/, 'a lock with a bad DLEQ')
  await refused(
    t,
    c,
    lock(await lockProofs(m.wallet, 10, keys)),
    'invalid',
    /the lock is worth 10 sats after the mint’s input fees, below the price of 21$/,
    'a lock below the price (the bid, with no quote)',
  )
  const stranger = signer()
  const theirs = await lockProofs(m.wallet, 21, { ...keys, customer: stranger.pubkey })
  await refused(
    t,
    c,
    lockEvent(stranger, req.id, provider.pubkey, m.mint.url, theirs),
    'restricted',
    /only the job's customer can lock payment for it/,
    "a stranger's lock",
  )
  t.match(jobRow(m.dataDir, req.id), { state: 'open', provider: null }, 'the job is still open')

  // The proofs of a lock that holds one job cannot hold another.
  await accepted(t, c, lock(good), 'the good lock')
  const other = request(customer, { bid: 21_000 })
  await accepted(t, c, other, 'another request')
  await refused(
    t,
    c,
    lockEvent(customer, other.id, provider.pubkey, m.mint.url, good),
    'invalid',
    new RegExp(`proof 1 is already pledged to job ${req.id.slice(0, 12)}$`),
    'the same proofs for another job',
  )
})

t.test('the mint must be in the provider’s 10019 and allowed by market.mints, and support NUT-11', async t => {
  const allowedMint = await openMint(t)
  const m = await escrowMarket(t, { 'market.mints': [allowedMint.mint.url] })
  const { c, customer, provider, keys } = m
  const req = request(customer, { bid: 5_000 })
  await accepted(t, c, req, 'the request')
  const from = (mint: FixtureMint, proofs: readonly Proof[]) =>
    lockEvent(customer, req.id, provider.pubkey, mint.url, proofs)
  await refused(
    t,
    c,
    from(m.mint, await lockProofs(m.wallet, 5, keys)),
    'invalid',
    /is not allowed here$/,
    'a mint the provider lists but the operator does not allow',
  )
  const infos = () => allowedMint.mint.requests.get('/v1/info') ?? 0
  const before = infos()
  await refused(
    t,
    c,
    from(allowedMint.mint, await lockProofs(allowedMint.wallet, 5, keys)),
    'invalid',
    /is not among the provider’s 10019 mints$/,
    'a mint the operator allows but the provider does not list',
  )
  t.equal(infos(), before, 'that mint is not asked: the lock is refused before any fetch')
  const noP2pk = await openMint(t, { without: [11] })
  await m.publish10019([m.mint.url, allowedMint.mint.url, noP2pk.mint.url])
  const open = await escrowMarket(t)
  await open.publish10019([open.mint.url, noP2pk.mint.url])
  const req2 = request(open.customer, { bid: 5_000 })
  await accepted(t, open.c, req2, 'a request on a relay allowing any mint')
  await refused(
    t,
    open.c,
    lockEvent(
      open.customer,
      req2.id,
      open.provider.pubkey,
      noP2pk.mint.url,
      await lockProofs(noP2pk.wallet, 5, open.keys),
    ),
    'invalid',
    /the mint does not support NUT-11$/,
    'a mint without NUT-11 (its locks would be anyone-can-spend)',
  )
  await accepted(t, c, from(allowedMint.mint, await lockProofs(allowedMint.wallet, 5, keys)), 'an allowed, listed mint')
})

t.test('a lock whose mint cannot be reached is refused with error: and can be sent again', async t => {
  const m = await escrowMarket(t)
  const { c, customer, provider, keys } = m
  const req = request(customer, { bid: 5_000 })
  await accepted(t, c, req, 'the request')
  const proofs = await lockProofs(m.wallet, 5, keys)
  // The provider also lists a mint on a port nothing listens on.
  const gone = await startFixtureMint()
  await gone.close()
  await m.publish10019([m.mint.url, gone.url])
  await refused(
    t,
    c,
    lockEvent(customer, req.id, provider.pubkey, gone.url, proofs),
    'error',
    /^error: escrow: the mint could not be reached to check the lock; try again$/,
    'a lock at an unreachable mint',
  )
  t.match(jobRow(m.dataDir, req.id), { state: 'open' }, 'the job is not locked')
  await accepted(t, c, lockEvent(customer, req.id, provider.pubkey, m.mint.url, proofs), 'the lock at a reachable mint')
})

t.test('an imported lock is stored but locks nothing: an import runs no admission', async t => {
  const dataDir = tempDir(t)
  const [customer, provider, wallet10019] = [signer(), signer(), signer()]
  const ks = makeMintKeys()
  const req = request(customer, { bid: 5_000 })
  const secret = () => p2pkSecret(`02${wallet10019.pubkey}`, [['sigflag', 'SIG_ALL']])
  const lock = lockEvent(
    customer,
    req.id,
    provider.pubkey,
    'https://mint.example.com',
    issueProofs(ks, [4, 1], secret).map(p => JSON.stringify(p)),
  )
  const file = join(dataDir, 'in.jsonl')
  writeFileSync(file, [req, lock].map(e => JSON.stringify(e)).join('\n') + '\n')
  const r = await runCli(['import', file, '--data', dataDir])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /imported 2, duplicates 0, refused 0/)
  t.match(jobRow(dataDir, req.id), { state: 'open', provider: null }, 'the job is not locked')
})
