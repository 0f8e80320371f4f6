// REQ: stored events newest first, EOSE, then live delivery through the subscription index.
import { idOfCanonical, isRejection, reject, type NostrEvent } from '../../nips/nip01.js'
import type { Sub } from '../connection.js'
import { QueryBudgetExceeded } from '../store/reader.js'
import type { Handler } from './context.js'
import { parseReadRequest, subIdOf } from './read-filters.js'
import { notice, refuseSub } from './refuse.js'
import { eoseFrame, eventFrame } from './replies.js'

export const onReq: Handler = async (rc, conn, msg) => {
  const subId = subIdOf(msg)
  if (subId === undefined) return notice(conn, reject('invalid', 'REQ needs a subscription id: a non-empty string'))
  const { cfg, policies } = rc.snapshot()
  const req = parseReadRequest('REQ', msg, cfg)
  if (isRejection(req)) return refuseSub(conn, subId, req)
  const refused = policies.read('REQ', req.filters, rc.policyCtx(conn))
  if (refused) return refuseSub(conn, subId, refused)
  const old = conn.subs.get(subId)
  if (old) {
    // NIP-01: a REQ with an open subscription's id replaces it.
    rc.subs.remove(old)
    conn.subs.delete(subId)
  } else if (conn.subs.size >= cfg.limits.max_subscriptions) {
    return refuseSub(
      conn,
      subId,
      reject('restricted', `too many open subscriptions (limit ${cfg.limits.max_subscriptions}); CLOSE one first`),
    )
  }
  await conn.replies
  if (conn.closed) return
  // Live first, then the stored events: whatever commits while the query runs waits in the backlog.
  const sub: Sub = { conn, id: subId, filters: req.filters, backlog: [] }
  conn.subs.set(subId, sub)
  rc.subs.add(sub)
  const L = cfg.limits
  const wanted = req.filters.map(filter => ({ filter, limit: Math.min(filter.limit ?? L.default_limit, L.max_limit) }))
  let raws
  try {
    raws = await rc.queries.query(wanted, rc.now(), L.query_time_budget_ms)
  } catch (err) {
    rc.subs.remove(sub)
    conn.subs.delete(subId)
    if (!(err instanceof QueryBudgetExceeded)) throw err
    return refuseSub(
      conn,
      subId,
      reject(
        'error',
        `query took longer than ${L.query_time_budget_ms} ms; narrow it with authors, kinds, tags or since/until`,
      ),
    )
  }
  const visible = policies.visible
  for (const raw of raws)
    if (!visible || visible(JSON.parse(raw) as NostrEvent, conn.authed)) conn.send(eventFrame(subId, raw))
  conn.send(eoseFrame(subId))
  // Live matches that arrived during the query, minus those the query already returned. A commit the query saw
  // may not be fanned out yet (the writer thread reports after readers see it), so the backlog stays until every
  // batch in flight now has been; the connection's next messages need not wait for that.
  const sent = new Set(raws.map(idOfCanonical))
  void rc.writer.settled().then(() => {
    const backlog = sub.backlog!
    sub.backlog = undefined
    if (conn.subs.get(subId) !== sub) return // closed or replaced meanwhile
    for (const b of backlog) if (!sent.has(b.id)) conn.send(b.frame)
  })
}
