import t, { type Test } from 'tap'
import { bytesToHex } from '@noble/curves/utils.js'
import { generateSecretKey } from 'nostr-tools/pure'
import {
  fetchEvent,
  ledgerOf,
  ledgerState,
  postJob,
  publishOrThrow,
  relayKeys,
  waitFor,
  watchJob,
} from '../../client/customer.js'
import { ClientError } from '../../client/errors.js'
import { signerFrom } from '../../client/keys.js'
import { LEDGER } from '../../client/market.js'
import { Pool } from '../../client/pool.js'
import type { NostrEvent } from '../../nips/nip01.js'
import { connectFor, putAll } from '../helpers/client.js'
import { signer } from '../helpers/events.js'
import { feedback, result, startMarket } from '../helpers/market.js'
import { startTestRelay } from '../helpers/relay.js'
import { waitFor as until } from '../helpers/wait.js'

/** A Pool on `urls` with a fresh key, closed at teardown. */
function pool(t: Test, urls: string[]): Pool {
  const p = new Pool(urls, signerFrom(bytesToHex(generateSecretKey())))
  t.teardown(() => p.close())
  return p
}

t.test('publishOrThrow returns the stored event, and throws naming each refusal when no relay stores it', async t => {
  const { url } = await startTestRelay(t, { 'policies.open': false, 'policies.pow.enabled': false })
  const p = pool(t, [url])
  const job = await postJob(p, { kind: 5100, input: 'summarise this', bid: 21_000 })
  t.equal(job.pubkey, p.signer.pubkey)
  const stored = await fetchEvent(p, job.id)
  t.same(stored, JSON.parse(JSON.stringify(job)), 'the returned event is the stored one')
  t.same(stored.tags.slice(0, 2), [
    ['i', 'summarise this', 'text'],
    ['bid', '21000'],
  ])
  await t.rejects(
    publishOrThrow(p, { kind: 1, tags: [], content: 'a note' }, 'the note'),
    new ClientError(`the note refused: ${url}: blocked: kind 1 is not accepted here`),
  )
})

t.test('waitFor resolves with the first stored or live event pick accepts, and times out with exit code 3', async t => {
  const { url } = await startTestRelay(t)
  const p = pool(t, [url])
  const s = signer()
  const stored = s.sign({ content: 'stored 1' })
  await putAll(await connectFor(t, url), stored)
  const byContent = (want: string) => (e: NostrEvent) => (e.content === want ? e.id : undefined)
  t.equal(await waitFor(p, [{ authors: [s.pubkey] }], byContent('stored 1'), 30_000, 'stored'), stored.id)
  const live = s.sign({ content: 'live 2' })
  const waiting = waitFor(p, [{ authors: [s.pubkey] }], byContent('live 2'), 30_000, 'live')
  t.equal((await p.publishSigned(live)).ok, true)
  t.equal(await waiting, live.id, 'an event that arrives later')
  await t.rejects(
    waitFor(p, [{ authors: [s.pubkey] }], byContent('never'), 1000, 'answer'),
    new ClientError('no answer within 1 s', 3),
  )
})

t.test('fetchEvent names the relays when an id is on none of them', async t => {
  const { url } = await startTestRelay(t)
  const p = pool(t, [url])
  const id = 'f'.repeat(64)
  await t.rejects(fetchEvent(p, id, 'job request'), new ClientError(`job request ${id} is not on ${url}`))
})

t.test(
  'a customer follows its job: feedback and result by kind, then the ledger entry signed by the relay',
  async t => {
    const m = await startMarket(t)
    const p = pool(t, [m.url])
    t.same(await relayKeys(p), [m.relay.pubkey], 'the relay key from NIP-11 self')
    const job = await postJob(p, { kind: 5100, input: 'summarise this' })
    t.equal(await ledgerOf(p, job.id), undefined, 'an open job has no ledger entry')
    const heard: string[] = []
    const sub = watchJob(p, job, [m.relay.pubkey], {
      onFeedback: e => heard.push(`feedback ${e.tags.find(x => x[0] === 'status')?.[1]}`),
      onResult: e => heard.push(`result ${e.content}`),
      onLedger: e => heard.push(`ledger ${ledgerState(e)}`),
    })
    t.teardown(() => sub.close())
    const provider = signer()
    await putAll(m.c, feedback(provider, job, 'processing'), result(provider, job))
    await until(() => heard.includes('ledger delivered'), 'the delivered ledger entry', 90_000)
    t.same(heard.slice(0, 2), ['feedback processing', 'result the summary'], 'feedback, then the result')
    const ledger = await ledgerOf(p, job.id)
    t.equal(ledger?.kind, LEDGER)
    t.equal(ledger?.pubkey, m.relay.pubkey)
    t.equal(ledgerState(ledger), 'delivered')
  },
)
