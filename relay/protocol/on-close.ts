// CLOSE: ends a subscription; NIP-01 sends no reply.
import { reject } from '../../nips/nip01.js'
import type { Handler } from './context.js'
import { notice } from './refuse.js'

export const onClose: Handler = (rc, conn, msg) => {
  if (msg.length !== 2 || typeof msg[1] !== 'string')
    return notice(conn, reject('invalid', 'CLOSE takes one subscription id'))
  const sub = conn.subs.get(msg[1])
  if (!sub) return
  rc.subs.remove(sub)
  conn.subs.delete(msg[1])
}
