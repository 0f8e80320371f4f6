// The EVENT write path after the frame: the cheap rules and the policies, the id and signature, facts fetched from
// outside, the checks after the signature, then the writer (or live delivery for ephemerals). A client's EVENT and a
// mirrored event take it alike; the origin says which policies apply and what the writer records beside the event.
import {
  canonicalJson,
  checkId,
  isEphemeralKind,
  reject,
  type NostrEvent,
  type VerifiedEvent,
} from '../../nips/nip01.js'
import { isExpired } from '../../nips/nip40.js'
import { ClientAuth } from '../../nips/nip42.js'
import type { WriteHooks } from '../../policies/index.js'
import type { PolicyCtx } from '../../policies/types.js'
import { accepted, duplicate, refused, type Verdict } from './answer.js'
import type { RelayCtx } from './context.js'

/** Where an event comes from: a client's connection, or an upstream the relay mirrors. */
export type Origin = {
  /** What the policies may know of the moment and the sender. */
  policyCtx(): PolicyCtx
  /** The policies that apply, from the running snapshot: all of them for a client, all but the door for a mirror. */
  hooks(): WriteHooks
  /** The upstream a mirrored event was seen on, recorded by the writer with it (DESIGN §11, mirroring). */
  readonly seenOn?: string
}

/** The cheap rules and the policies, before any hashing or signature work. */
export function precheck(origin: Origin, ev: NostrEvent): Verdict | undefined {
  const ctx = origin.policyCtx()
  if (ev.kind === ClientAuth) return refused(reject('invalid', 'kind 22242 is sent with AUTH, not EVENT'))
  if (isExpired(ev, ctx.now)) return refused(reject('invalid', 'event has expired (NIP-40)'))
  const policy = origin.hooks().event(ev, ctx)
  return policy && refused(policy)
}

/** After a valid signature: the checks that need one, then the writer (or live delivery for ephemerals). */
function admitVerified(rc: RelayCtx, origin: Origin, ev: VerifiedEvent, raw: string): Verdict | Promise<Verdict> {
  const checked = origin.hooks().verified(ev, origin.policyCtx())
  if (checked && 'prefix' in checked) return refused(checked)
  if (isEphemeralKind(ev.kind) && !checked?.keep) {
    // NIP-01: ephemeral events are delivered live and never stored (unless a policy keeps one).
    rc.fanout(ev, raw)
    return accepted
  }
  const note = origin.seenOn === undefined ? checked : { ...checked, seenOn: origin.seenOn }
  return rc.writer.enqueue(ev, raw, note).then(
    o => (o.status === 'saved' ? accepted : o.status === 'duplicate' ? duplicate : refused(o.rejection)),
    () => refused(reject('error', 'could not store the event; try again')),
  )
}

const badSig = refused(reject('invalid', 'signature does not verify'))
const verifyFailed = refused(reject('error', 'could not check the signature; try again'))

/** The verdict, boxed so that a commit's promise travels inside it without being awaited. */
export type Boxed = { verdict: Verdict | Promise<Verdict> }

/**
 * A new event that passed `precheck`: its id, its signature, then (after `before`, the same origin's earlier events)
 * admission, so that one origin's writes reach the writer in the order it sent them.
 */
export function checkAndAdmit(
  rc: RelayCtx,
  origin: Origin,
  ev: NostrEvent,
  before: Promise<void>,
): Boxed | Promise<Boxed> {
  const wrongId = checkId(ev)
  if (wrongId) return { verdict: refused(wrongId) }
  const raw = canonicalJson(ev)
  const admit = () => ({ verdict: admitVerified(rc, origin, ev as VerifiedEvent, raw) })
  return Promise.all([rc.verifier.verify(ev, raw), before]).then(
    ([ok]) => {
      if (!ok) return { verdict: badSig }
      // Facts from outside (an LNURL server's key, a mint's keyset) are fetched first, in this
      // origin's order, so the checks after them stay synchronous.
      const fetching = origin.hooks().prepare(ev, origin.policyCtx())
      return fetching ? fetching.then(admit) : admit()
    },
    () => ({ verdict: verifyFailed }),
  )
}
