// client/sealed.ts: a result sealed under a key K opens only under K and only to the plaintext it committed to, and
// what it shows before it is paid does not give the result away.
import t from 'tap'
import type { NostrEvent } from '../../nips/nip01.js'
import { readJobRequest } from '../../client/market.js'
import { openResult, sealingKey, sealResult } from '../../client/sealed.js'
import { signer } from '../helpers/events.js'
import { request } from '../helpers/market.js'

const job = readJobRequest(request(signer(), { bid: 50_000 }))
const seal = (plaintext: string, key = sealingKey().key) =>
  ({ ...sealResult(job, plaintext, key, 21_000, 'lnbc210n1'), pubkey: 'f'.repeat(64) }) as unknown as NostrEvent
const previewOf = (e: NostrEvent) => e.tags.find(x => x[0] === 'preview')?.[1]

t.test('a sealed result opens under its key to its plaintext', async t => {
  const { key, keyHash } = sealingKey()
  const sealed = seal('the translated text', key)
  t.equal(sealed.tags.find(x => x[0] === 'key_hash')?.[1], keyHash, 'it commits to the key’s hash')
  t.notMatch(sealed.content, /translated/, 'its content is encrypted')
  t.equal(openResult(sealed, key), 'the translated text')
})

t.test('the preview shows at most a quarter of the result, and nothing of a very short one', async t => {
  t.equal(previewOf(seal('SEALED SECRET')), 'SEA…', 'a quarter of 13 characters')
  t.equal(previewOf(seal('x'.repeat(1000))), `${'x'.repeat(64)}…`, 'at most 64 characters')
  t.equal(previewOf(seal('yes')), undefined, 'no preview of 3 characters')
  t.equal(previewOf(seal('😀😀😀😀😀😀😀😀')), '😀😀…', 'cut between characters, never inside one')
})

t.test('a result NIP-44 cannot seal is refused by its size', async t => {
  t.throws(() => seal(''), {
    name: 'ClientError',
    message: 'a sealed result holds 1 to 65535 bytes (NIP-44 v2); this one has 0',
  })
  t.throws(() => seal('x'.repeat(65_536)), { name: 'ClientError', message: /this one has 65536$/ })
})

t.test('another key, or a result that opens to another plaintext, is refused by name', async t => {
  const sealed = seal('the translated text')
  t.throws(() => openResult(sealed, sealingKey().key), {
    name: 'ClientError',
    message: 'the key does not match the sealed result’s key_hash',
  })
  const { key } = sealingKey()
  const swapped = { ...seal('something else', key), tags: seal('the translated text', key).tags }
  t.throws(() => openResult(swapped, key), {
    name: 'ClientError',
    message: /opens to another plaintext than it committed to$/,
  })
})
