// EVENT: checks in cost order (DESIGN §2), then the writer; OK only after commit.
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
import type { Handler } from './context.js'
import { notice, refuseEvent } from './refuse.js'
import { okFrame } from './replies.js'

export const onEvent: Handler = (rc, conn, msg) => {
  const e = msg[1]
  const claimedId = typeof e === 'object' && e !== null ? (e as { id?: unknown }).id : undefined
  const bad = msg.length !== 2 ? reject('invalid', 'EVENT takes exactly one event') : checkEventShape(e)
  if (bad) {
    if (typeof claimedId === 'string' && claimedId.length <= 64) refuseEvent(conn, claimedId, bad)
    else notice(conn, bad)
    return
  }
  const ev = e as NostrEvent
  const now = rc.now()
  const early =
    ev.kind === ClientAuth
      ? reject('invalid', 'kind 22242 is sent with AUTH, not EVENT')
      : isExpired(ev, now)
        ? reject('invalid', 'event has expired (NIP-40)')
        : rc.snapshot().writeCheck(ev, { now, ip: conn.ip, authed: conn.authed })
  if (early) return refuseEvent(conn, ev.id, early)
  const ephemeral = isEphemeralKind(ev.kind)
  // Duplicates are cheap to spot before any hashing or signature work.
  if (!ephemeral && rc.reader.has(ev.id)) return conn.send(okFrame(ev.id, 'duplicate: already have this event'))
  const wrong = checkId(ev) ?? (rc.verifier.verify(ev) ? undefined : reject('invalid', 'signature does not verify'))
  if (wrong) return refuseEvent(conn, ev.id, wrong)
  const verified = ev as VerifiedEvent
  const raw = canonicalJson(ev)
  if (ephemeral) {
    // NIP-01: ephemeral events are delivered live and never stored.
    rc.fanout(verified, raw)
    return conn.send(okFrame(ev.id))
  }
  const write = rc.writer.enqueue(verified, raw).then(
    outcome => {
      if (outcome.status === 'saved') conn.send(okFrame(ev.id))
      else if (outcome.status === 'duplicate') conn.send(okFrame(ev.id, 'duplicate: already have this event'))
      else refuseEvent(conn, ev.id, outcome.rejection)
    },
    () => refuseEvent(conn, ev.id, reject('error', 'could not store the event; try again')),
  )
  conn.lastWrite = write
}
