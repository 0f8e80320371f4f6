// The client's local Cashu wallet against the fixture mint: the file (0600, atomic, locked), minting, tokens, the
// escrow from both sides with a test relay key co-signing, nutzaps, and the messages a user sees when things fail.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { getEncodedToken, SigAll, Wallet } from '@cashu/cashu-ts'
import { bytesToHex } from '@noble/curves/utils.js'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { openWallet, proofsFromTags, type LocalWallet } from '../../client/wallet.js'
import { checkNutzap, type CashuProof } from '../../nips/nip61.js'
import { fund } from '../fixtures/mint/escrow.js'
import { startFixtureMint, type FixtureMint, type FixtureMintOptions } from '../fixtures/mint/index.js'
import { now } from '../helpers/events.js'
import { tempDir } from '../helpers/relay.js'

const FAST = { timeoutMs: 60_000, pollMs: 20 }

async function startMint(t: Test, o?: FixtureMintOptions): Promise<FixtureMint> {
  const mint = await startFixtureMint(o)
  t.teardown(mint.close)
  return mint
}

/** A wallet in a fresh temp dir holding `sats` minted at `mint` (none when 0). */
async function walletWith(t: Test, mint: FixtureMint, sats = 0, file?: string): Promise<LocalWallet> {
  const w = await openWallet(file ?? join(tempDir(t, 'agora-wallet-'), 'wallet.json'))
  if (sats > 0) await w.waitMinted(mint.url, (await w.mintQuote(mint.url, sats)).quote, sats, FAST)
  return w
}

/** A Nostr key as the customer or the relay holds it. */
function nostrKey() {
  const sk = generateSecretKey()
  return { secretHex: bytesToHex(sk), pubkey: getPublicKey(sk) }
}

/** What the relay does to rule or co-sign: its signature added to a package (relay/identity.ts coSign). */
const relayCoSign = (wire: string, secretHex: string) =>
  SigAll.serializePackage(SigAll.signPackage(SigAll.deserializePackage(wire), secretHex))

/** NUT-02: the mint's fee for spending `n` proofs of its one keyset. */
const feeOf = (mint: FixtureMint, n: number) => Math.ceil((n * mint.keyset.input_fee_ppk) / 1000)

t.test('minted sats show in the balance, the file is 0600, and a reopened wallet holds the same', async t => {
  const mint = await startMint(t)
  const file = join(tempDir(t, 'agora-wallet-'), 'sub', 'wallet.json')
  const w = await openWallet(file)
  t.equal(statSync(file).mode & 0o777, 0o600, 'created 0600 on first use')
  t.match(w.cashuPubkey(), /^02[0-9a-f]{64}$/, 'the 10019 key is 02 + x-only hex')
  const { quote, bolt11 } = await w.mintQuote(mint.url, 50)
  t.match(bolt11, /^lnbc/, 'a bolt11 invoice to pay')
  t.equal(await w.waitMinted(mint.url, quote, 50, FAST), 50)
  t.strictSame(w.balance(), { [mint.url]: 50 })
  t.equal(w.total(), 50)
  t.equal(statSync(file).mode & 0o777, 0o600, 'still 0600 after an atomic rewrite')
  t.notOk(existsSync(`${file}.lock`), 'the lock file is gone after the operation')
  const again = await openWallet(file)
  t.equal(again.total(), 50, 'a new instance reads the same proofs')
  t.equal(again.cashuPubkey(), w.cashuPubkey(), 'and the same P2PK key')
})

t.test('a token sent by one wallet is received by another, once', async t => {
  const mint = await startMint(t, { inputFeePpk: 100 })
  const [alice, bob] = [await walletWith(t, mint, 64), await walletWith(t, mint)]
  const token = await alice.send(mint.url, 21)
  t.match(token, /^cashuB/)
  t.equal(await bob.receive(token), 21, 'the receiver nets the amount: the sender paid the fee')
  t.strictSame(bob.balance(), { [mint.url]: 21 })
  t.ok(alice.total() < 64 - 21 + 1 && alice.total() >= 64 - 21 - 2, `the sender kept its change (${alice.total()})`)
  await t.rejects(bob.receive(token), { name: 'ClientError', message: /refused: .*spent/i }, 'a spent token')
  await t.rejects(bob.receive('cashuBnonsense'), { name: 'ClientError', message: /^not a Cashu token/ })
  t.equal(bob.total(), 21, 'failed receives change nothing')
})

t.test('a token locked to the wallet’s P2PK key is received with its signature; to another key it is not', async t => {
  const mint = await startMint(t)
  const raw = new Wallet(mint.url, { unit: 'sat' })
  await raw.loadMint()
  const [bob, carol] = [await walletWith(t, mint), await walletWith(t, mint)]
  const { send } = await raw.ops
    .send(10, await fund(raw, 20))
    .asP2PK({ pubkey: bob.cashuPubkey() })
    .run()
  const token = getEncodedToken({ mint: mint.url, unit: 'sat', proofs: send })
  await t.rejects(carol.receive(token), { name: 'ClientError', message: /refused: Witness is missing or invalid/ })
  t.equal(await bob.receive(token), 10)
})

t.test('an insufficient balance is refused with what is held and needed, and the file is untouched', async t => {
  const mint = await startMint(t)
  const w = await walletWith(t, mint, 5)
  const before = readFileSync(w.file, 'utf8')
  await t.rejects(w.send(mint.url, 21), {
    name: 'ClientError',
    message: `the wallet holds 5 sats at ${mint.url}; 21 needed (run agora wallet mint)`,
  })
  await t.rejects(w.send('http://127.0.0.1:1', 1), { message: /holds 0 sats at http:\/\/127.0.0.1:1; 1 needed/ })
  t.equal(readFileSync(w.file, 'utf8'), before, 'not a byte changed')
  await t.rejects(w.send(mint.url, 0), { name: 'ClientError', message: /not a whole number of sats above 0/ })
})

/** A loopback URL where nothing listens. */
async function closedPort(): Promise<string> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

t.test('a mint that is down or unreachable is named in the message', async t => {
  const mint = await startMint(t)
  const w = await walletWith(t, mint, 8)
  mint.setDown(true)
  const fresh = await walletWith(t, mint)
  await t.rejects(fresh.mintQuote(mint.url, 5), {
    name: 'ClientError',
    message: `mint ${mint.url} answered 503 (down)`,
  })
  await t.rejects(w.send(mint.url, 3), { message: /answered 503/ }, 'a loaded mint going down mid-use')
  t.equal(w.total(), 8, 'the proofs are still held')
  const nowhere = await closedPort()
  await t.rejects(fresh.mintQuote(nowhere, 5), {
    name: 'ClientError',
    message: `mint ${nowhere} cannot be reached: ECONNREFUSED`,
  })
})

/** The fixture mint behind a proxy whose quotes are never paid. */
async function unpaidMint(t: Test, mint: FixtureMint): Promise<string> {
  const server = createServer((req, res) => {
    const unpaid = req.url?.startsWith('/v1/mint/quote/bolt11/')
    const up = httpRequest(`${mint.url}${req.url}`, { method: req.method, headers: req.headers }, answer => {
      if (!unpaid) {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        return answer.pipe(res)
      }
      const chunks: Buffer[] = []
      answer.on('data', (c: Buffer) => chunks.push(c))
      answer.on('end', () => {
        const quote = { ...JSON.parse(Buffer.concat(chunks).toString()), state: 'UNPAID' }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(quote))
      })
    })
    req.pipe(up)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('a quote not paid before the timeout is reported, and nothing is minted', async t => {
  const url = await unpaidMint(t, await startMint(t))
  const w = await openWallet(join(tempDir(t, 'agora-wallet-'), 'wallet.json'))
  const { quote } = await w.mintQuote(url, 5)
  await t.rejects(w.waitMinted(url, quote, 5, { timeoutMs: 300, pollMs: 50 }), {
    name: 'ClientError',
    message: `the invoice of quote ${quote} at ${url} was not paid within 0.3 s`,
  })
  t.equal(w.total(), 0)
})

t.test('a wallet file that is not JSON, or that others can read, is refused with how to fix it', async t => {
  const dir = tempDir(t, 'agora-wallet-')
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{"version": 1,', { mode: 0o600 })
  await t.rejects(openWallet(bad), { name: 'ClientError', message: /^wallet file .*bad.json is not valid JSON/ })
  const open = join(dir, 'open.json')
  await openWallet(open)
  chmodSync(open, 0o640)
  await t.rejects(openWallet(open), {
    name: 'ClientError',
    message: `wallet file ${open} has mode 0640: it holds money and a secret key, so only its owner may read it; run chmod 600 ${open}`,
  })
  const other = join(dir, 'other.json')
  writeFileSync(other, '{"version": 1, "p2pk": "zz"}', { mode: 0o600 })
  await t.rejects(openWallet(other), { message: /is not an agora wallet: p2pk is not a 64-hex secret key/ })
})

t.test('two wallet instances on one file receiving at once lose no proofs', async t => {
  const mint = await startMint(t)
  const payer = await walletWith(t, mint, 64)
  const tokens: string[] = []
  for (let i = 0; i < 8; i++) tokens.push(await payer.send(mint.url, 3))
  const file = join(tempDir(t, 'agora-wallet-'), 'shared.json')
  const [a, b] = [await openWallet(file), await openWallet(file)]
  const got = await Promise.all(tokens.map((token, i) => (i % 2 ? a : b).receive(token)))
  t.strictSame(got, Array(8).fill(3))
  t.equal(a.total(), 24, 'every received proof is in the file')
  t.equal(JSON.parse(readFileSync(file, 'utf8')).proofs[mint.url].length >= 8, true)
})

/** A process that has exited: its pid is free. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''])
  await new Promise(resolve => child.on('exit', resolve))
  return child.pid!
}

t.test('a lock left by a dead process is taken over; one held by a live process makes others wait', async t => {
  const mint = await startMint(t)
  const file = join(tempDir(t, 'agora-wallet-'), 'wallet.json')
  const w = await walletWith(t, mint, 10, file)
  writeFileSync(`${file}.lock`, String(await deadPid()))
  t.ok((await w.send(mint.url, 2)).startsWith('cashuB'), 'the stale lock did not block')
  const holder = spawn('sleep', ['30'])
  t.teardown(() => holder.kill())
  writeFileSync(`${file}.lock`, String(holder.pid))
  const blocked = await openWallet(file, { lockTimeoutMs: 300 }).catch((e: Error) => e)
  t.match(blocked, { name: 'ClientError', message: `the wallet is in use by process ${holder.pid}` })
  t.equal(readFileSync(`${file}.lock`, 'utf8'), String(holder.pid), 'a live holder’s lock is left alone')
})

/** A customer and a provider wallet, their keys and the relay's, and 21 sats locked by the customer for a job. */
async function lockedEscrow(t: Test) {
  const mint = await startMint(t, { inputFeePpk: 100 })
  const [customerWallet, provider] = [await walletWith(t, mint, 100), await walletWith(t, mint)]
  const [customer, relay] = [nostrKey(), nostrKey()]
  const job = bytesToHex(generateSecretKey())
  const locktime = now() + 7200
  const lock = await customerWallet.lockEscrow({
    mint: mint.url,
    sats: 21,
    providerCashuKey: provider.cashuPubkey(),
    customer: customer.pubkey,
    relay: relay.pubkey,
    locktime,
  })
  const proofs = proofsFromTags([['e', job], ...lock.tags])
  return { mint, customerWallet, provider, customer, relay, job, lock, proofs, locktime }
}

t.test('the customer’s lock is worth the price after fees, and its tags parse back to its proofs', async t => {
  const { mint, customerWallet, lock, proofs, customer, relay, provider, locktime } = await lockedEscrow(t)
  const json = lock.tags.map(tag => JSON.parse(tag[1]!) as CashuProof)
  t.ok(
    lock.tags.every(tag => tag[0] === 'proof'),
    'proof tags',
  )
  t.equal(json.reduce((s, p) => s + p.amount, 0) - feeOf(mint, json.length), 21, 'worth 21 after the input fee')
  t.ok(
    json.every(p => p.dleq?.r),
    'each carries its DLEQ with r',
  )
  t.strictSame(
    proofs.map(p => p.secret),
    lock.proofs.map(p => p.secret),
  )
  const [kind, secret] = JSON.parse(json[0]!.secret) as [string, { data: string; tags: string[][] }]
  t.equal(kind, 'P2PK')
  t.equal(secret.data, provider.cashuPubkey())
  t.strictSame(Object.fromEntries(secret.tags.map(([k, ...v]) => [k, v])), {
    pubkeys: [`02${customer.pubkey}`, `02${relay.pubkey}`],
    n_sigs: ['2'],
    sigflag: ['SIG_ALL'],
    locktime: [String(locktime)],
    refund: [`02${customer.pubkey}`],
  })
  t.ok(customerWallet.total() >= 100 - 21 - 6, `the customer kept its change (${customerWallet.total()})`)
})

t.test('the provider claims, the relay co-signs, and the provider redeems the escrow', async t => {
  const { mint, provider, relay, job, proofs } = await lockedEscrow(t)
  const claim = await provider.prepareClaim(job, mint.url, proofs)
  t.strictSame(provider.pendingJobs(), [job])
  await t.rejects(provider.redeem(job, claim), { message: /refused: Witness is missing or invalid/ }, 'alone')
  await t.rejects(provider.redeem('ab'.repeat(32), claim), { message: /prepared no escrow claim or refund for job/ })
  const worth = proofs.reduce((s, p) => s + p.amount.toNumber(), 0) - feeOf(mint, proofs.length)
  t.equal(await provider.redeem(job, relayCoSign(claim, relay.secretHex)), worth, 'the locked sats less the fee')
  t.equal(provider.total(), 21)
  t.strictSame(provider.pendingJobs(), [], 'the pending swap is dropped')
})

t.test('the customer releases: its co-signature on the claim lets the provider redeem', async t => {
  const { mint, provider, customerWallet, customer, job, proofs } = await lockedEscrow(t)
  const claim = await provider.prepareClaim(job, mint.url, proofs)
  const released = customerWallet.coSignRelease(claim, customer.secretHex)
  t.equal(await provider.redeem(job, released), 21)
  t.throws(() => customerWallet.coSignRelease('sigallAnope', customer.secretHex), { message: /^not a SIG_ALL/ })
})

t.test('the customer’s refund, co-signed by the relay, comes back to the customer', async t => {
  const { mint, customerWallet, customer, relay, job, proofs } = await lockedEscrow(t)
  const before = customerWallet.total()
  const refund = await customerWallet.prepareRefund(job, mint.url, proofs, customer.secretHex)
  const ruled = relayCoSign(refund, relay.secretHex)
  const other = await walletWith(t, mint)
  await other.prepareClaim(job, mint.url, proofs)
  await t.rejects(other.redeem(job, ruled), { message: /does not pay job .*to the outputs this wallet prepared/ })
  t.equal(await customerWallet.redeem(job, ruled), 21)
  t.equal(customerWallet.total(), before + 21)
})

t.test('a claim survives reopening the wallet, and preparing it again keeps its outputs', async t => {
  const { mint, provider, relay, job, proofs } = await lockedEscrow(t)
  const claim = await provider.prepareClaim(job, mint.url, proofs)
  const restarted = await openWallet(provider.file)
  t.strictSame(restarted.pendingJobs(), [job])
  const again = await restarted.prepareClaim(job, mint.url, proofs)
  const outputs = (wire: string) => SigAll.deserializePackage(wire).outputs.map(o => o.B_)
  t.strictSame(outputs(again), outputs(claim), 'the same outputs: a package already published stays redeemable')
  t.equal(await restarted.redeem(job, relayCoSign(claim, relay.secretHex)), 21)
})

t.test('nutzap proofs are locked to the recipient alone with DLEQs, and the recipient takes them', async t => {
  const mint = await startMint(t)
  const [alice, bob, carol] = [await walletWith(t, mint, 32), await walletWith(t, mint), await walletWith(t, mint)]
  const jsons = await alice.nutzapProofs(mint.url, 13, bob.cashuPubkey())
  const proofs = jsons.map(j => JSON.parse(j) as CashuProof)
  const info = { p2pk: bob.cashuPubkey(), mints: [mint.url] }
  const checked = checkNutzap({ mint: mint.url, recipient: 'b'.repeat(64), proofs }, info, () => mint.keyset)
  t.match(checked, { sats: 13 }, 'the relay’s NIP-61 check counts it as 13 sats')
  t.equal(alice.total(), 19)
  await t.rejects(carol.receiveNutzap(mint.url, jsons), { message: /Witness is missing or invalid/ })
  t.equal(await bob.receiveNutzap(mint.url, jsons), 13)
  await t.rejects(bob.receiveNutzap(mint.url, ['{}']), { name: 'ClientError', message: /^proof tags: proof 1 is not/ })
})
