// NEG-CLOSE (NIP-77): ends a session and frees its set; no reply.
import { reject } from '../../nips/nip01.js'
import type { Handler } from './context.js'
import { endSession } from './negentropy.js'
import { notice } from './refuse.js'

export const onNegClose: Handler = (rc, conn, msg) => {
  if (msg.length !== 2 || typeof msg[1] !== 'string')
    return notice(conn, reject('invalid', 'NEG-CLOSE takes one subscription id'))
  endSession(rc, conn, msg[1])
}
