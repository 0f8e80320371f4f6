// NEG-OPEN (NIP-77): a negentropy session over one filter. Its set is read and kept on a reader thread, which
// answers the client's first message; refusals and failures come back as NEG-ERR.
import { isRejection, reject } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import { isScrape } from '../store/planner.js'
import type { Handler } from './context.js'
import { answerSession, endSession, frameSizeLimit, isHexMessage, startSession } from './negentropy.js'
import { subIdOf } from './read-filters.js'
import { notice, refuseNeg } from './refuse.js'

export const onNegOpen: Handler = async (rc, conn, msg) => {
  const subId = subIdOf(msg)
  if (subId === undefined)
    return notice(conn, reject('invalid', 'NEG-OPEN needs a subscription id: a non-empty string'))
  // NIP-77: a NEG-OPEN for an open session's id replaces it.
  endSession(rc, conn, subId)
  const { cfg, policies } = rc.snapshot()
  const L = cfg.limits
  if (subId.length > L.max_subid_length)
    return refuseNeg(conn, subId, reject('invalid', `subscription id is longer than ${L.max_subid_length} characters`))
  if (msg.length !== 4 || !isHexMessage(msg[3]))
    return refuseNeg(conn, subId, reject('invalid', 'NEG-OPEN takes a subscription id, one filter and a hex message'))
  // NIP-77 names one filter; NDK's sync sends an array of them, which is read as their union.
  const raws = Array.isArray(msg[2]) ? (msg[2] as unknown[]) : [msg[2]]
  if (raws.length === 0 || raws.length > L.max_filters)
    return refuseNeg(conn, subId, reject('invalid', `NEG-OPEN takes one filter, or a list of 1 to ${L.max_filters}`))
  const filters: CompiledFilter[] = []
  for (const raw of raws) {
    const f = compileFilter(raw, { maxValues: L.max_filter_values })
    if (isRejection(f)) return refuseNeg(conn, subId, f)
    if (!L.allow_scrape && isScrape(f))
      return refuseNeg(
        conn,
        subId,
        reject('restricted', 'filters must name ids, authors, kinds or a tag on this relay'),
      )
    filters.push(f)
  }
  const refused = policies.read('NEG-OPEN', filters, rc.policyCtx(conn))
  if (refused) return refuseNeg(conn, subId, refused)
  if (conn.negs.size >= L.max_negentropy_sessions)
    return refuseNeg(
      conn,
      subId,
      reject('blocked', `too many open negentropy sessions (limit ${L.max_negentropy_sessions}); NEG-CLOSE one first`),
    )
  // The client's own writes before this message are in the set.
  await conn.replies
  if (conn.closed) return
  const session = startSession(conn, subId)
  const answer = rc.queries.negentropy.open(session.key, {
    filters,
    now: rc.now(),
    budgetMs: L.query_time_budget_ms,
    maxRecords: L.max_negentropy_records,
    frameSizeLimit: frameSizeLimit(L.max_message_length),
    hex: msg[3],
  })
  await answerSession(rc, conn, subId, session, answer)
}
