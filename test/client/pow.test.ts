import t from 'tap'
import { getPow } from 'nostr-tools/nip13'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { minePow, stopMining } from '../../client/pow.js'

t.teardown(() => stopMining())

const sk = generateSecretKey()
const pubkey = getPublicKey(sk)
const template = (content: string, tags: string[][] = []) => ({ kind: 5100, created_at: 0, tags, content })

t.test('a mined template, signed, has an id with the work its nonce tag commits to', async t => {
  const mined = await minePow(template('work', [['i', 'x', 'text']]), pubkey, 12)
  const nonce = mined.tags.filter(x => x[0] === 'nonce')
  t.equal(nonce.length, 1, 'one nonce tag')
  t.equal(nonce[0]![2], '12', 'committing to the bits asked for')
  t.same(mined.tags[0], ['i', 'x', 'text'], 'the other tags are kept')
  t.ok(mined.created_at > 0, 'created_at is set to the time of mining')
  t.ok(getPow(finalizeEvent(mined, sk).id) >= 12, 'the signed id has the work')
})

t.test('mining again replaces an old nonce tag instead of adding one', async t => {
  const first = await minePow(template('again'), pubkey, 4)
  const second = await minePow(first, pubkey, 8)
  t.same(
    second.tags.filter(x => x[0] === 'nonce').map(x => x[2]),
    ['8'],
  )
  t.ok(getPow(finalizeEvent(second, sk).id) >= 8)
})

t.test('templates mined at once each get their own work', async t => {
  const all = await Promise.all([6, 7, 8].map(bits => minePow(template(`parallel ${bits}`), pubkey, bits)))
  t.same(
    all.map(m => m.content),
    ['parallel 6', 'parallel 7', 'parallel 8'],
  )
  for (const [i, m] of all.entries()) t.ok(getPow(finalizeEvent(m, sk).id) >= 6 + i, m.content)
})

t.test('the event loop keeps running while a template is mined', async t => {
  // Mine until at least 300 ms have passed, so a lucky early nonce cannot leave no time for the timer; mining on
  // the main thread would hold the loop through every round and let no tick in.
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  t.teardown(() => clearInterval(timer))
  const start = Date.now()
  let rounds = 0
  while (Date.now() - start < 300) {
    await minePow(template(`round ${rounds++}`), pubkey, 18)
  }
  clearInterval(timer)
  t.ok(ticks > 3, `the timer ticked ${ticks} times during ${rounds} round(s) of mining`)
})
