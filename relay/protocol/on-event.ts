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
import type { WriteNote } from '../../policies/types.js'
import type { Conn } from '../connection.js'
import { accepted, answerEvent, duplicate, refused, type Verdict } from './answer.js'
import type { Handler, RelayCtx } from './context.js'
import { notice } from './refuse.js'

type Admitted = { readonly event: VerifiedEvent; readonly note: WriteNote | undefined }

/** Everything before the writer: cheap checks, policies, duplicate lookup, id and signature, verified checks. */
function admit(rc: RelayCtx, conn: Conn, ev: NostrEvent): Verdict | Admitted {
  const ctx = rc.policyCtx(conn)
  const { policies } = rc.snapshot()
  if (ev.kind === ClientAuth) return refused(reject('invalid', 'kind 22242 is sent with AUTH, not EVENT'))
  if (isExpired(ev, ctx.now)) return refused(reject('invalid', 'event has expired (NIP-40)'))
  const policy = policies.event(ev, ctx)
  if (policy) return refused(policy)
  // Duplicates are cheap to spot before any hashing or signature work.
  if (!isEphemeralKind(ev.kind) && rc.reader.has(ev.id)) return duplicate
  const wrong = checkId(ev) ?? (rc.verifier.verify(ev) ? undefined : reject('invalid', 'signature does not verify'))
  if (wrong) return refused(wrong)
  const note = policies.verified(ev, ctx)
  if (note && 'prefix' in note) return refused(note)
  return { event: ev as VerifiedEvent, note }
}

function store(rc: RelayCtx, { event: ev, note }: Admitted): Verdict | Promise<Verdict> {
  const raw = canonicalJson(ev)
  if (isEphemeralKind(ev.kind)) {
    // NIP-01: ephemeral events are delivered live and never stored.
    rc.fanout(ev, raw)
    return accepted
  }
  return rc.writer.enqueue(ev, raw, note).then(
    o => (o.status === 'saved' ? accepted : o.status === 'duplicate' ? duplicate : refused(o.rejection)),
    () => refused(reject('error', 'could not store the event; try again')),
  )
}

export const onEvent: Handler = (rc, conn, msg) => {
  const e = msg[1]
  const bad = msg.length !== 2 ? reject('invalid', 'EVENT takes exactly one event') : checkEventShape(e)
  if (bad) {
    const id = typeof e === 'object' && e !== null ? (e as { id?: unknown }).id : undefined
    return typeof id === 'string' && id.length <= 64 ? answerEvent(conn, id, refused(bad)) : notice(conn, bad)
  }
  const ev = e as NostrEvent
  const v = admit(rc, conn, ev)
  answerEvent(conn, ev.id, 'event' in v ? store(rc, v) : v)
}
