// NIP-77 from the client's side: reconciles a local set of (created_at, id) with a relay's set for one filter, and
// says which ids each side lacks. Transferring the events is the caller's business (agora sync, mirroring).
import { nip77 } from 'nostr-tools'
import { PackedStorage } from '../nips/nip77.js'
import { ClientError } from './errors.js'
import type { Filter, RelayClient } from './relay.js'

/** What a reconciliation found: ids only we have, ids only the relay has, and what the session cost. */
export type Reconciliation = {
  readonly have: string[]
  readonly need: string[]
  /** Messages the relay answered. */
  readonly rounds: number
  /** Bytes of negentropy messages sent and received (the hex text of NEG-OPEN and NEG-MSG payloads). */
  readonly sentBytes: number
  readonly receivedBytes: number
}

export type ReconcileOptions = {
  /**
   * Largest message either side should send, in bytes: at least 4,096 (nostr-tools refuses less, and has no "none");
   * 60,000 by default, nostr-tools' own. The relay's own may be smaller.
   */
  readonly frameSizeLimit?: number
  /** Longest wait for one answer of the relay's, in ms. */
  readonly answerMs?: number
  /** Told after each round, for a progress line. */
  readonly onRound?: (p: { rounds: number; have: number; need: number }) => void
}

type Storage = InstanceType<typeof nip77.NegentropyStorageVector>

/** Reconciles `local` (pairs, or a set already packed) with what `relay` holds for `filter`. */
export function reconcile(
  relay: RelayClient,
  filter: Filter,
  local: Iterable<readonly [number, string]> | PackedStorage,
  opts: ReconcileOptions = {},
): Promise<Reconciliation> {
  const storage = local instanceof PackedStorage ? local : new PackedStorage(local)
  // nostr-tools' initiator drives any storage with its vector's methods; the packed one keeps fingerprints O(1).
  const neg = new nip77.Negentropy(storage as unknown as Storage, opts.frameSizeLimit ?? 60_000)
  const have: string[] = []
  const need: string[] = []
  let rounds = 0
  const first = neg.initiate()
  let sentBytes = first.length / 2
  let receivedBytes = 0
  return new Promise((resolve, reject) => {
    const answerMs = opts.answerMs ?? 60_000
    let timer: NodeJS.Timeout
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        session.close()
        reject(new ClientError(`${relay.url} did not answer a negentropy message within ${answerMs / 1000} s`))
      }, answerMs)
    }
    const session = relay.negOpen(filter, first, {
      onmsg: hex => {
        rounds++
        receivedBytes += hex.length / 2
        let next: string | null
        try {
          next = neg.reconcile(
            hex,
            id => have.push(id),
            id => need.push(id),
          )
        } catch (err) {
          clearTimeout(timer)
          session.close()
          return reject(new ClientError(`${relay.url} sent a bad negentropy message: ${(err as Error).message}`))
        }
        opts.onRound?.({ rounds, have: have.length, need: need.length })
        if (next === null) {
          clearTimeout(timer)
          session.close()
          return resolve({ have, need, rounds, sentBytes, receivedBytes })
        }
        sentBytes += next.length / 2
        arm()
        session.send(next)
      },
      onerr: reason => {
        clearTimeout(timer)
        reject(new ClientError(`${relay.url} refused negentropy: ${reason}`))
      },
    })
    arm()
  })
}
