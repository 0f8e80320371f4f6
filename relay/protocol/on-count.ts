// COUNT (NIP-45): the number of distinct stored events matching any filter; refusals as CLOSED.
import { isRejection, reject } from '../../nips/nip01.js'
import type { Handler } from './context.js'
import { parseReadRequest, subIdOf } from './read-filters.js'
import { notice, refuseSub } from './refuse.js'
import { countFrame } from './replies.js'

export const onCount: Handler = async (rc, conn, msg) => {
  const subId = subIdOf(msg)
  if (subId === undefined) return notice(conn, reject('invalid', 'COUNT needs a query id: a non-empty string'))
  const { cfg, policies } = rc.snapshot()
  const req = parseReadRequest('COUNT', msg, cfg)
  if (isRejection(req)) return refuseSub(conn, subId, req)
  const refused = policies.read('COUNT', req.filters, rc.policyCtx(conn))
  if (refused) return refuseSub(conn, subId, refused)
  await conn.replies
  const count = await rc.queries.count(req.filters, rc.now())
  if (!conn.closed) conn.send(countFrame(subId, count))
}
