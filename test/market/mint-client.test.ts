import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { Wallet } from '@cashu/cashu-ts'
import { httpMintClient } from '../../market/mint-client.js'
import { proofY } from '../../nips/nip61.js'
import { makeMintKeys, startMintServer, type MintKeyset, type MintServerOptions } from '../helpers/cashu.js'
import { signer } from '../helpers/events.js'
import { startFixtureMint } from '../fixtures/mint/index.js'
import { lockSats } from '../fixtures/mint/escrow.js'

const client = httpMintClient({ timeoutMs: 2_000 })
const publicPart = (k: MintKeyset) => ({
  id: k.id,
  unit: k.unit,
  keys: k.keys,
  ...(k.input_fee_ppk ? { input_fee_ppk: k.input_fee_ppk } : {}),
})

const serve = async (t: Test, keysets: MintKeyset[], opts?: MintServerOptions) => {
  const mint = await startMintServer(keysets, opts)
  t.teardown(mint.close)
  return mint
}

t.test('fetches a keyset with a 01 (NUT-02 V2) id in one request', async t => {
  const ks = makeMintKeys()
  const mint = await serve(t, [makeMintKeys(), ks])
  t.strictSame(await client.keyset(mint.url, ks.id), publicPart(ks))
  t.strictSame([...mint.requests], [[`/v1/keys/${ks.id}`, 1]])
})

t.test('fetches a keyset with a 00 (NUT-02 V1) id', async t => {
  const ks = makeMintKeys([1, 2, 4], { idPrefix: '00' })
  const mint = await serve(t, [ks])
  t.strictSame(await client.keyset(mint.url, ks.id), publicPart(ks))
})

t.test('a 01 id commits to the input fee: the fee the keyset has verifies, another does not', async t => {
  const ks = makeMintKeys([1, 2], { inputFeePpk: 100 })
  const mint = await serve(t, [ks])
  t.strictSame(await client.keyset(mint.url, ks.id), publicPart(ks))
  const liar = await serve(t, [{ ...ks, input_fee_ppk: 0 }])
  await t.rejects(client.keyset(liar.url, ks.id), { message: /do not derive to keyset id/ })
})

t.test('refuses a mint that serves keys whose derived id differs', async t => {
  const real = makeMintKeys()
  const forged = { ...makeMintKeys(), id: real.id }
  const mint = await serve(t, [forged])
  await t.rejects(client.keyset(mint.url, real.id), {
    message: `${mint.url}/v1/keys/${real.id} returned keys that do not derive to keyset id ${real.id}`,
  })
})

t.test('refuses a mint that relabels a 01 keyset with another unit', async t => {
  const ks = makeMintKeys()
  const mint = await serve(t, [{ ...ks, unit: 'usd' }])
  await t.rejects(client.keyset(mint.url, ks.id), { message: /do not derive to keyset id/ })
})

t.test('refuses a keyset the mint does not have', async t => {
  const mint = await serve(t, [makeMintKeys()])
  const id = makeMintKeys().id
  await t.rejects(client.keyset(mint.url, id), { message: `${mint.url}/v1/keys/${id} answered HTTP 404` })
})

t.test('refuses an answer that holds another keyset than the one asked for', async t => {
  const asked = makeMintKeys()
  const mint = await serve(t, [], { keysAnswer: () => ({ keysets: [publicPart(makeMintKeys())] }) })
  await t.rejects(client.keyset(mint.url, asked.id), {
    message: `${mint.url}/v1/keys/${asked.id} did not return keyset ${asked.id} as {keysets: [{id, unit, keys}]}`,
  })
})

t.test('refuses an answer whose keys are not compressed public keys', async t => {
  const ks = makeMintKeys([1, 2])
  const mint = await serve(t, [], {
    keysAnswer: () => ({ keysets: [{ ...publicPart(ks), keys: { 1: 'zz', 2: ks.keys[2] } }] }),
  })
  await t.rejects(client.keyset(mint.url, ks.id), { message: /did not return keyset/ })
})

t.test('refuses an answer that is not JSON', async t => {
  const mint = await serve(t, [], { keysAnswer: () => undefined })
  const id = makeMintKeys().id
  await t.rejects(client.keyset(mint.url, id), { message: new RegExp(`^${mint.url}/v1/keys/${id} failed: `) })
})

t.test('refuses keyset ids it cannot verify, without asking the mint', async t => {
  const mint = await serve(t, [])
  for (const id of ['I2yN+iRYfkzT', '01abcdef01234567', '02' + 'a'.repeat(64), '../keysets'])
    await t.rejects(client.keyset(mint.url, id), { message: `keyset id ${id} is not a verifiable version` })
  t.equal(mint.requests.size, 0)
})

t.test('times out on a mint that never answers', async t => {
  const mint = await serve(t, [], { hang: true })
  const id = makeMintKeys().id
  const started = Date.now()
  await t.rejects(httpMintClient({ timeoutMs: 200 }).keyset(mint.url, id), {
    message: `${mint.url}/v1/keys/${id} did not answer within 200 ms`,
  })
  t.ok(Date.now() - started < 1_500, 'gives up near the timeout')
})

t.test('reports a mint that cannot be reached', async t => {
  const mint = await startMintServer([])
  await mint.close()
  const id = makeMintKeys().id
  await t.rejects(client.keyset(mint.url, id), { message: new RegExp(`^${mint.url}/v1/keys/${id} failed: `) })
})

t.test("reads the NUTs a mint's info supports: supported true, or NUT-4/5 not disabled", async t => {
  const info = {
    name: 'fixture',
    nuts: {
      '4': { methods: [{ method: 'bolt11', unit: 'sat' }], disabled: false },
      '5': { methods: [], disabled: true },
      '7': { supported: true },
      '10': { supported: true },
      '11': { supported: false },
      '12': { supported: true },
      x: { supported: true },
    },
  }
  const mint = await serve(t, [], { info })
  t.strictSame(await client.info(mint.url), { nuts: [4, 7, 10, 12] })
  const bare = await serve(t, [], { info: { name: 'no nuts' } })
  t.strictSame(await client.info(bare.url), { nuts: [] }, 'an info without nuts supports none')
  const none = await serve(t, [])
  await t.rejects(client.info(none.url), { message: `${none.url}/v1/info answered HTTP 404` })
})

/** A loopback mint answering every request with `status` and `body` as JSON, recording what it was sent. */
async function answering(t: Test, status: number, body: unknown) {
  const seen: { method?: string; path?: string; type?: string; body: string }[] = []
  const server = createServer((req, res) => {
    let sent = ''
    req.on('data', (chunk: Buffer) => (sent += chunk.toString()))
    req.on('end', () => {
      seen.push({ method: req.method, path: req.url, type: req.headers['content-type'], body: sent })
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const ys = ['one', 'two', 'three'].map(proofY)

t.test(
  'checkstate POSTs the Ys as JSON and returns the states in order, with the witnesses the mint gives',
  async t => {
    const witness = JSON.stringify({ signatures: ['ab'.repeat(64)] })
    const mint = await answering(t, 200, {
      states: [
        { Y: ys[0], state: 'SPENT', witness },
        { Y: ys[1], state: 'UNSPENT', witness: null },
        { Y: ys[2], state: 'PENDING' },
      ],
    })
    const states = await client.checkstate(mint.url, ys)
    t.strictSame(
      mint.seen,
      [{ method: 'POST', path: '/v1/checkstate', type: 'application/json', body: JSON.stringify({ Ys: ys }) }],
      'one POST of {"Ys": [...]} as JSON to /v1/checkstate (NUT-07)',
    )
    t.strictSame(
      states,
      [
        { Y: ys[0], state: 'SPENT', witness },
        { Y: ys[1], state: 'UNSPENT' },
        { Y: ys[2], state: 'PENDING' },
      ],
      'the states as answered, a witness kept where the mint gives one',
    )
    t.notOk('witness' in states[1]!, 'a null witness is dropped, not kept as null')
  },
)

t.test('checkstate refuses an answer without a well-formed state for each Y, naming the URL', async t => {
  const state = (Y: string) => ({ Y, state: 'UNSPENT' })
  const answers: [string, unknown][] = [
    ['no states', {}],
    ['states not a list', { states: state(ys[0]!) }],
    ['a state not UNSPENT, PENDING or SPENT', { states: [...ys.slice(0, 2).map(state), { Y: ys[2], state: 'BURNT' }] }],
    ['a state without its Y', { states: [...ys.slice(0, 2).map(state), { state: 'SPENT' }] }],
    ['a witness that is not text', { states: [...ys.slice(0, 2).map(state), { ...state(ys[2]!), witness: 7 }] }],
    ['fewer states than Ys', { states: ys.slice(0, 2).map(state) }],
    ['more states than Ys', { states: [...ys, ys[0]!].map(state) }],
    ['the states of other Ys', { states: [...ys.slice(0, 2), 'ff'.repeat(33)].map(state) }],
    ['the states out of order', { states: [ys[1]!, ys[0]!, ...ys.slice(2)].map(state) }],
    ['null', null],
  ]
  for (const [rule, body] of answers) {
    const mint = await answering(t, 200, body)
    const message = `${mint.url}/v1/checkstate did not return a state for each proof, in order, as {states: [{Y, state, witness}]}`
    await t.rejects(client.checkstate(mint.url, ys), { message }, `${rule}: refused`)
  }
  const failing = await answering(t, 500, { detail: 'down' })
  await t.rejects(
    client.checkstate(failing.url, ys),
    { message: `${failing.url}/v1/checkstate answered HTTP 500` },
    'an HTTP error: refused with its status',
  )
})

t.test('checkstate against the fixture mint: freshly locked escrow proofs are all unspent', async t => {
  const mint = await startFixtureMint()
  t.teardown(mint.close)
  const wallet = new Wallet(mint.url, { unit: 'sat' })
  await wallet.loadMint()
  const [provider, customer, relay] = [signer(), signer(), signer()].map(s => s.pubkey)
  const keys = { data: provider!, customer: customer!, relay: relay! }
  const locked = await lockSats(wallet, 21, keys, mint.now() + 3600)
  const lockedYs = locked.map(p => proofY(p.secret))
  t.strictSame(
    await client.checkstate(mint.url, lockedYs),
    lockedYs.map(Y => ({ Y, state: 'UNSPENT' })),
    'each locked proof UNSPENT, in the order asked, without a witness',
  )
  t.equal(mint.requests.get('/v1/checkstate'), 1, 'in one request')
})
