// The packed negentropy set (nips/nip77.ts) against nostr-tools' own vector: the same fingerprints for every range,
// the same lower bounds, and a whole reconciliation with nostr-tools' Negentropy on both sides finding the difference.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nip77 } from 'nostr-tools'
import { PackedStorage, Responder } from '../../nips/nip77.js'

const { Negentropy, NegentropyStorageVector } = nip77
type NegentropyStorageVector = InstanceType<typeof NegentropyStorageVector>

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
/** n pairs over a few seconds, so many share a timestamp (the id decides their order). */
const pairs = (n: number, from = 1_700_000_000) =>
  Array.from({ length: n }, (_, i) => [from + (i % 37), randomBytes(32).toString('hex')] as const)

function vector(items: readonly (readonly [number, string])[]): NegentropyStorageVector {
  const v = new NegentropyStorageVector()
  for (const [ts, id] of items) v.insert(ts, id)
  v.seal()
  return v
}

t.test('the same order, fingerprints and lower bounds as nostr-tools’ vector', async t => {
  const items = pairs(500)
  // Ids whose sums carry across every limb: all 0xff.
  items.push([1_700_000_000, 'ff'.repeat(32)], [1_700_000_001, 'fe'.repeat(32)])
  const ours = new PackedStorage(items)
  const theirs = vector(items)
  t.equal(ours.size(), theirs.size())
  for (let i = 0; i < ours.size(); i++) {
    const a = ours.getItem(i)
    const b = theirs.getItem(i)
    if (a.timestamp !== b.timestamp || hex(a.id) !== hex(b.id)) t.fail(`item ${i} differs`)
  }
  let checked = 0
  for (let begin = 0; begin <= ours.size(); begin += 23)
    for (let end = begin; end <= ours.size(); end += 41) {
      if (hex(ours.fingerprint(begin, end)) !== hex(theirs.fingerprint(begin, end))) t.fail(`[${begin}, ${end})`)
      checked++
    }
  t.ok(checked > 100, `${checked} ranges had the same fingerprint`)
  t.equal(hex(ours.fingerprint(0, ours.size())), hex(theirs.fingerprint(0, theirs.size())), 'the whole set')
  for (const bound of [
    { timestamp: 1_700_000_005, id: new Uint8Array(0) },
    { timestamp: 1_700_000_005, id: ours.getItem(100).id.subarray(0, 3) },
    { timestamp: 0, id: new Uint8Array(0) },
    { timestamp: Number.MAX_SAFE_INTEGER, id: new Uint8Array(0) },
  ])
    t.equal(ours.findLowerBound(0, ours.size(), bound), theirs.findLowerBound(0, theirs.size(), bound))
  t.same(new PackedStorage([...items, items[0]!]).size(), items.length, 'an id given twice is kept once')
  t.throws(() => ours.fingerprint(3, 2), /bad range/)
})

t.test('nostr-tools’ client reconciles against the packed set: have and need are exactly the difference', async t => {
  const shared = pairs(3000)
  const clientOnly = pairs(150, 1_700_001_000)
  const relayOnly = pairs(200, 1_699_999_000)
  const client = new Negentropy(vector([...shared, ...clientOnly]), 60_000)
  const relay = new Responder(new PackedStorage([...shared, ...relayOnly]), 60_000)
  const have: string[] = []
  const need: string[] = []
  let msg: string | null = client.initiate()
  let rounds = 0
  while (msg !== null) {
    const answer = relay.reconcile(msg)
    msg = client.reconcile(
      answer,
      id => have.push(id),
      id => need.push(id),
    )
    rounds++
  }
  t.same(have.sort(), clientOnly.map(([, id]) => id).sort(), 'the client has what only it holds')
  t.same(need.sort(), relayOnly.map(([, id]) => id).sort(), 'and needs what only the relay holds')
  t.ok(rounds >= 1 && rounds < 10, `${rounds} rounds`)
})

t.test('small frames: the answer stays under the limit and the rest comes over more rounds', async t => {
  const shared = pairs(20_000)
  const clientOnly = pairs(2_000, 1_700_000_010)
  const relayOnly = pairs(2_500, 1_700_000_020)
  const client = new Negentropy(vector([...shared, ...clientOnly]), 4096)
  const relay = new Responder(new PackedStorage([...shared, ...relayOnly]), 4096)
  const have = new Set<string>()
  const need = new Set<string>()
  let msg: string | null = client.initiate()
  let rounds = 0
  let largest = 0
  while (msg !== null && rounds < 1000) {
    const answer = relay.reconcile(msg)
    largest = Math.max(largest, answer.length / 2)
    msg = client.reconcile(
      answer,
      (id: string) => have.add(id),
      (id: string) => need.add(id),
    )
    rounds++
  }
  t.equal(msg, null, `done in ${rounds} rounds`)
  t.ok(largest <= 4096, `the largest answer was ${largest} bytes`)
  t.same([...have].sort(), clientOnly.map(([, id]) => id).sort())
  t.same([...need].sort(), relayOnly.map(([, id]) => id).sort())
})

t.test('a message of another protocol version is answered with ours alone; a broken one is refused', async t => {
  const relay = new Responder(new PackedStorage(pairs(10)))
  t.equal(relay.reconcile('62'), '61')
  t.throws(() => relay.reconcile('00'), /protocol version/)
  t.throws(() => relay.reconcile('6100'), /ends early/)
})
