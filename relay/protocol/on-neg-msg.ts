// NEG-MSG (NIP-77): the client's next message of an open session, answered by the reader holding its set.
import { reject } from '../../nips/nip01.js'
import type { Handler } from './context.js'
import { answerSession, endSession, isHexMessage } from './negentropy.js'
import { subIdOf } from './read-filters.js'
import { notice, refuseNeg } from './refuse.js'

export const onNegMsg: Handler = async (rc, conn, msg) => {
  const subId = subIdOf(msg)
  if (subId === undefined) return notice(conn, reject('invalid', 'NEG-MSG needs a subscription id: a non-empty string'))
  const session = conn.negs.get(subId)
  if (!session) return refuseNeg(conn, subId, reject('closed', 'no open negentropy session with this id'))
  if (msg.length !== 3 || !isHexMessage(msg[2])) {
    endSession(rc, conn, subId)
    return refuseNeg(conn, subId, reject('invalid', 'NEG-MSG takes a subscription id and a hex message'))
  }
  clearTimeout(session.idle)
  await answerSession(rc, conn, subId, session, rc.queries.negentropy.message(session.key, msg[2]))
}
