// AUTH (NIP-42): a signed kind-22242 event proves a pubkey on this connection; never stored or broadcast.
import { checkEventShape, checkId, reject, type NostrEvent } from '../../nips/nip01.js'
import { checkAuthEvent } from '../../nips/nip42.js'
import type { Handler } from './context.js'
import { accepted, answerEvent, refused } from './answer.js'
import { notice } from './refuse.js'

export const onAuth: Handler = async (rc, conn, msg) => {
  const e = msg[1]
  const bad = msg.length !== 2 ? reject('invalid', 'AUTH takes exactly one event') : checkEventShape(e)
  if (bad) {
    const id = (e as { id?: unknown } | null)?.id
    return typeof id === 'string' && id.length <= 64 ? answerEvent(conn, id, refused(bad)) : notice(conn, bad)
  }
  const ev = e as NostrEvent
  const { cfg } = rc.snapshot()
  const wrong =
    checkId(ev) ??
    ((await rc.verifier.verify(ev)) ? undefined : reject('invalid', 'signature does not verify')) ??
    checkAuthEvent(ev, {
      challenge: conn.challenge,
      relayUrls: rc.relayUrls(conn),
      now: rc.now(),
      window: cfg.limits.auth_window,
    })
  if (wrong) return answerEvent(conn, ev.id, refused(wrong))
  conn.authed.add(ev.pubkey)
  answerEvent(conn, ev.id, accepted)
}
