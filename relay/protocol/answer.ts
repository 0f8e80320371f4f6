// OK replies in arrival order: an EVENT refused at once must not be answered before an earlier EVENT
// of the same connection that is still waiting for its commit.
import type { Rejection } from '../../nips/nip01.js'
import type { Conn } from '../connection.js'
import type { EventFacts } from '../observe.js'
import { refuseEvent } from './refuse.js'
import { okFrame } from './replies.js'

/** What the OK for one event will say: accepted (with an optional `duplicate:` note) or refused. */
export type Verdict =
  { readonly ok: true; readonly message?: string } | { readonly ok: false; readonly rejection: Rejection }

export const accepted: Verdict = { ok: true }
export const duplicate: Verdict = { ok: true, message: 'duplicate: already have this event' }
export const refused = (rejection: Rejection): Verdict => ({ ok: false, rejection })

/** Queues the OK for `id` behind the connection's earlier replies; `ev`, a well-formed EVENT's, is counted. */
export function answerEvent(conn: Conn, id: string, verdict: Verdict | Promise<Verdict>, ev?: EventFacts): void {
  conn.replies = Promise.all([conn.replies, verdict]).then(([, v]) => {
    if (!v.ok) return refuseEvent(conn, id, v.rejection, ev)
    conn.send(okFrame(id, v.message))
    if (ev) conn.observer.accepted(ev, v === duplicate)
  })
}
