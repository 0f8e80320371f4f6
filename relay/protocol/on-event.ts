// EVENT: checks in cost order (DESIGN §2), then the writer; OK only after commit, in arrival order.
import {
  canonicalJson,
  checkEventShape,
  checkId,
  isEphemeralKind,
  reject,
  type NostrEvent,
  type VerifiedEvent,
} from '../../nips/nip01.js'
import { isExpired } from '../../nips/nip40.js'
import { ClientAuth } from '../../nips/nip42.js'
import type { Conn } from '../connection.js'
import { accepted, answerEvent, duplicate, refused, type Verdict } from './answer.js'
import type { Handler, RelayCtx } from './context.js'
import { notice } from './refuse.js'

/** The cheap rules and the policies, before any hashing or signature work. */
function precheck(rc: RelayCtx, conn: Conn, ev: NostrEvent): Verdict | undefined {
  const ctx = rc.policyCtx(conn)
  if (ev.kind === ClientAuth) return refused(reject('invalid', 'kind 22242 is sent with AUTH, not EVENT'))
  if (isExpired(ev, ctx.now)) return refused(reject('invalid', 'event has expired (NIP-40)'))
  const policy = rc.snapshot().policies.event(ev, ctx)
  return policy && refused(policy)
}

/** After a valid signature: the checks that need one, then the writer (or live delivery for ephemerals). */
function admitVerified(rc: RelayCtx, conn: Conn, ev: VerifiedEvent, raw: string): Verdict | Promise<Verdict> {
  const note = rc.snapshot().policies.verified(ev, rc.policyCtx(conn))
  if (note && 'prefix' in note) return refused(note)
  if (isEphemeralKind(ev.kind) && !note?.keep) {
    // NIP-01: ephemeral events are delivered live and never stored (unless a policy keeps one).
    rc.fanout(ev, raw)
    return accepted
  }
  return rc.writer.enqueue(ev, raw, note).then(
    o => (o.status === 'saved' ? accepted : o.status === 'duplicate' ? duplicate : refused(o.rejection)),
    () => refused(reject('error', 'could not store the event; try again')),
  )
}

const badSig = refused(reject('invalid', 'signature does not verify'))
const verifyFailed = refused(reject('error', 'could not check the signature; try again'))

export const onEvent: Handler = (rc, conn, msg) => {
  conn.observer.received()
  const e = msg[1]
  const bad = msg.length !== 2 ? reject('invalid', 'EVENT takes exactly one event') : checkEventShape(e)
  if (bad) {
    const id = typeof e === 'object' && e !== null ? (e as { id?: unknown }).id : undefined
    return typeof id === 'string' && id.length <= 64 ? answerEvent(conn, id, refused(bad)) : notice(conn, bad)
  }
  const ev = e as NostrEvent
  const early = precheck(rc, conn, ev)
  if (early) return answerEvent(conn, ev.id, early, ev)
  // Signatures are checked in parallel; what follows runs in arrival order, so this connection's writes reach the
  // writer in the order it sent them. Duplicates are found by the writer, which looks every id up anyway: a lookup
  // here, before verification, cost the event loop more (about 22 µs an event under load) than verifying the few
  // duplicates costs the workers, and ingest rose when it went (README, Performance).
  const before = conn.ingest
  const next = checkAndAdmit(rc, conn, ev, before)
  if (next instanceof Promise) conn.ingest = next.then(() => undefined)
  answerEvent(conn, ev.id, next instanceof Promise ? next.then(b => b.verdict) : next.verdict, ev)
}

/** The verdict, boxed so that a commit's promise travels inside it without being awaited. */
type Boxed = { verdict: Verdict | Promise<Verdict> }

/** A new event: its id, its signature, then (after the connection's earlier events) admission. */
function checkAndAdmit(rc: RelayCtx, conn: Conn, ev: NostrEvent, before: Promise<void>): Boxed | Promise<Boxed> {
  const wrongId = checkId(ev)
  if (wrongId) return { verdict: refused(wrongId) }
  const raw = canonicalJson(ev)
  const admit = () => ({ verdict: admitVerified(rc, conn, ev as VerifiedEvent, raw) })
  return Promise.all([rc.verifier.verify(ev, raw), before]).then(
    ([ok]) => {
      if (!ok) return { verdict: badSig }
      // Facts from outside (an LNURL server's key, a mint's keyset) are fetched first, in this
      // connection's order, so the checks after them stay synchronous.
      const fetching = rc.snapshot().policies.prepare(ev, rc.policyCtx(conn))
      return fetching ? fetching.then(admit) : admit()
    },
    () => ({ verdict: verifyFailed }),
  )
}
