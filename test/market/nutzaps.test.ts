// NIP-61 nutzaps as payment evidence over WebSocket (DESIGN §7.2): checked offline against the provider's
// 10019 (lock key, mint list) and the mint's keyset (DLEQ), fetched once from a loopback mint built from
// cashu-ts's own mint-side functions; each proof counts once.
import t from 'tap'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { signer, type Signer } from '../helpers/events.js'
import { issueProofs, makeMintKeys, p2pkSecret, startMintServer } from '../helpers/cashu.js'
import { accepted, jobRow, outputWhen, refused, request, result, startMarket, tag, wallet } from '../helpers/market.js'
import type { CashuProof } from '../../nips/nip61.js'

const nutzap = (sender: Signer, to: string, mint: string, proofs: readonly CashuProof[], zapped?: string) =>
  sender.sign({
    kind: 9321,
    tags: [
      ...proofs.map(p => ['proof', JSON.stringify(p)]),
      ['u', mint],
      ['p', to],
      ...(zapped ? [['e', zapped]] : []),
    ],
    content: 'thanks',
  })

t.test('a nutzap locked to the provider’s 10019 key pays its job; forged or reused proofs do not', async t => {
  const m = await startMarket(t)
  const { c } = m
  const keyset = makeMintKeys()
  const mint = await startMintServer([keyset])
  t.teardown(() => mint.close())
  const [customer, provider] = [signer(), signer()]
  // The provider's Cashu key is not its nostr key (NIP-61 recommends a separate one).
  const cashuKey = getPublicKey(generateSecretKey())
  await accepted(t, c, wallet(provider, mint.url, cashuKey), 'the provider’s 10019')
  const req = request(customer, { bid: 24_000 })
  await accepted(t, c, req, 'the request')
  const res = result(provider, req, { amount: 24_000 })
  await accepted(t, c, res, 'the result')

  const locked = (amounts: number[]) => issueProofs(keyset, amounts, () => p2pkSecret(`02${cashuKey}`))
  // Locked to someone else's key: the provider could not spend it.
  const elsewhere = issueProofs(keyset, [16], () => p2pkSecret(`02${getPublicKey(generateSecretKey())}`))
  await refused(
    t,
    c,
    nutzap(customer, provider.pubkey, mint.url, elsewhere, res.id),
    'invalid',
    /locked to another key/,
    'a nutzap locked to another key',
  )
  const tampered = locked([16]).map(p => ({ ...p, dleq: { ...p.dleq!, s: p.dleq!.e } }))
  await refused(
    t,
    c,
    nutzap(customer, provider.pubkey, mint.url, tampered, res.id),
    'invalid',
    /invalid DLEQ/,
    'a bad DLEQ',
  )
  const otherMint = await startMintServer([keyset])
  t.teardown(() => otherMint.close())
  await refused(
    t,
    c,
    nutzap(customer, provider.pubkey, otherMint.url, locked([16]), res.id),
    'invalid',
    /not among the recipient’s 10019 mints/,
    'a mint the provider does not list',
  )
  t.equal(otherMint.requests.size, 0, 'a mint the provider does not list is never asked')
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', paid_msats: 0 })

  const first = locked([16, 4])
  await accepted(t, c, nutzap(customer, provider.pubkey, mint.url, first, res.id), '20 sats of good proofs')
  t.match(jobRow(m.dataDir, req.id), { state: 'delivered', paid_msats: 20_000 }, 'not yet the 24 sats asked')
  await refused(
    t,
    c,
    nutzap(customer, provider.pubkey, mint.url, [first[0]!, ...locked([4])], res.id),
    'invalid',
    /already counted/,
    'a nutzap reusing a proof',
  )
  await accepted(t, c, nutzap(customer, provider.pubkey, mint.url, locked([4]), res.id), '4 more sats')
  t.match(jobRow(m.dataDir, req.id), { state: 'paid', paid_msats: 24_000 }, 'paid in full')
  t.equal(mint.requests.get(`/v1/keys/${keyset.id}`), 1, 'the keyset was fetched once')

  const ledger = await outputWhen(c, m.relay.pubkey, 31118, req.id, e => tag(e, 'state') === 'paid', 'ledger: paid')
  t.equal(ledger.tags.filter(x => x[0] === 'payment' && x[1] === 'nutzap').length, 3, 'one payment row per proof')
})
