// Verb -> handler table. Each row declares the NIPs it implements; NIP-11 supported_nips is built from them.
import { reject } from '../../nips/nip01.js'
import type { Conn } from '../connection.js'
import type { Handler, RelayCtx } from './context.js'
import { onAuth } from './on-auth.js'
import { onClose } from './on-close.js'
import { onCount } from './on-count.js'
import { onEvent } from './on-event.js'
import { onNegClose } from './on-neg-close.js'
import { onNegMsg } from './on-neg-msg.js'
import { onNegOpen } from './on-neg-open.js'
import { onReq } from './on-req.js'
import { answerEvent, refused } from './answer.js'
import { notice, refuseNeg, refuseSub } from './refuse.js'

export const verbs: Readonly<Record<string, { handler: Handler; nips: readonly number[] }>> = {
  EVENT: { handler: onEvent, nips: [1, 9, 40] },
  REQ: { handler: onReq, nips: [1] },
  CLOSE: { handler: onClose, nips: [1] },
  COUNT: { handler: onCount, nips: [45] },
  AUTH: { handler: onAuth, nips: [42] },
  'NEG-OPEN': { handler: onNegOpen, nips: [77] },
  'NEG-MSG': { handler: onNegMsg, nips: [77] },
  'NEG-CLOSE': { handler: onNegClose, nips: [77] },
}

// An oversized EVENT still gets an OK false when its id can be read without parsing the whole frame.
// Clients put "id" first or last; an unescaped `"id":` can only be the event's own key.
const EVENT_START = /^\s*\[\s*"EVENT"\s*,\s*\{/
const ID_KEY = /"id"\s*:\s*"([0-9a-f]{64})"/

function oversizedEventId(text: string): string | undefined {
  if (!EVENT_START.test(text.slice(0, 40))) return undefined
  return (ID_KEY.exec(text.slice(0, 400)) ?? ID_KEY.exec(text.slice(-400)))?.[1]
}

/** Parses one text frame and hands it to its verb's handler; garbage gets a NOTICE and the connection lives on. */
export async function dispatch(rc: RelayCtx, conn: Conn, text: string, bytes: number): Promise<void> {
  const max = rc.snapshot().cfg.limits.max_message_length
  if (bytes > max) {
    const r = reject('invalid', `message is ${bytes} bytes, limit ${max}`)
    const id = oversizedEventId(text)
    return id ? answerEvent(conn, id, refused(r)) : notice(conn, r)
  }
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch {
    return notice(conn, reject('invalid', 'message is not valid JSON'))
  }
  if (!Array.isArray(msg) || typeof msg[0] !== 'string')
    return notice(conn, reject('invalid', 'message must be a JSON array starting with a verb'))
  const verb = Object.hasOwn(verbs, msg[0]) ? verbs[msg[0]] : undefined
  if (!verb) return notice(conn, reject('invalid', `unknown message type ${JSON.stringify(msg[0].slice(0, 32))}`))
  try {
    await verb.handler(rc, conn, msg)
  } catch (err) {
    // A bug in one message answers that message only; the connection and the relay go on.
    const r = reject('error', 'internal error handling this message')
    const subId = typeof msg[1] === 'string' ? msg[1] : undefined
    if ((msg[0] === 'REQ' || msg[0] === 'COUNT') && subId) refuseSub(conn, subId, r)
    else if (msg[0].startsWith('NEG-') && subId) refuseNeg(conn, subId, r)
    else notice(conn, r)
    rc.log.error({ component: 'relay', err, verb: msg[0] }, 'handler error')
  }
}
