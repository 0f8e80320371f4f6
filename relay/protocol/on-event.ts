// EVENT: checks in cost order (DESIGN §2), then the writer; OK only after commit, in arrival order.
import { checkEventShape, reject, type NostrEvent } from '../../nips/nip01.js'
import type { Conn } from '../connection.js'
import { checkAndAdmit, precheck, type Origin } from './admit.js'
import { answerEvent, refused } from './answer.js'
import type { Handler, RelayCtx } from './context.js'
import { notice } from './refuse.js'

/** A client's connection as an origin: its address and AUTH for the policies, and every policy. */
const clientOrigin = (rc: RelayCtx, conn: Conn): Origin => ({
  policyCtx: () => rc.policyCtx(conn),
  hooks: () => rc.snapshot().policies,
})

export const onEvent: Handler = (rc, conn, msg) => {
  conn.observer.received()
  const e = msg[1]
  const bad = msg.length !== 2 ? reject('invalid', 'EVENT takes exactly one event') : checkEventShape(e)
  if (bad) {
    const id = typeof e === 'object' && e !== null ? (e as { id?: unknown }).id : undefined
    return typeof id === 'string' && id.length <= 64 ? answerEvent(conn, id, refused(bad)) : notice(conn, bad)
  }
  const ev = e as NostrEvent
  const origin = clientOrigin(rc, conn)
  const early = precheck(origin, ev)
  if (early) return answerEvent(conn, ev.id, early, ev)
  // Signatures are checked in parallel; what follows runs in arrival order, so this connection's writes reach the
  // writer in the order it sent them. Duplicates are found by the writer, which looks every id up anyway: a lookup
  // here, before verification, cost the event loop more (about 22 µs an event under load) than verifying the few
  // duplicates costs the workers, and ingest rose when it went (README, Performance).
  const next = checkAndAdmit(rc, origin, ev, conn.ingest)
  if (next instanceof Promise) conn.ingest = next.then(() => undefined)
  answerEvent(conn, ev.id, next instanceof Promise ? next.then(b => b.verdict) : next.verdict, ev)
}
