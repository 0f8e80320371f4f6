import t, { type Test } from 'tap'
import { httpMintClient } from '../../market/mint-client.js'
import { makeMintKeys, startMintServer, type MintKeyset, type MintServerOptions } from '../helpers/cashu.js'

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
