// NIP-77 sessions of a connection, shared by NEG-OPEN, NEG-MSG and NEG-CLOSE: each session's set lives on a reader
// (relay/reader-pool.ts); here are its key, its idle timer, and what a reader's error means to the client.
import { reject, type Rejection } from '../../nips/nip01.js'
import type { Conn, NegSession } from '../connection.js'
import { NegentropyError } from '../reader-pool.js'
import { QueryBudgetExceeded, TooManyRecords } from '../store/reader.js'
import type { RelayCtx } from './context.js'
import { refuseNeg } from './refuse.js'
import { negMsgFrame } from './replies.js'

let lastKey = 0

/** A negentropy message as NIP-77 carries it: hex, whole bytes. */
export const isHexMessage = (m: unknown): m is string => typeof m === 'string' && /^(?:[0-9a-f]{2})+$/i.test(m)

/** A new session under `subId`, replacing none (the caller ends any open one first). */
export function startSession(conn: Conn, subId: string): NegSession {
  const session: NegSession = { key: ++lastKey }
  conn.negs.set(subId, session)
  return session
}

/** Ends a session on both sides of the thread boundary; true when one was open. */
export function endSession(rc: RelayCtx, conn: Conn, subId: string): boolean {
  const session = conn.negs.get(subId)
  if (!session) return false
  clearTimeout(session.idle)
  conn.negs.delete(subId)
  rc.queries.negentropy.close(session.key)
  return true
}

/** Ends every session of a closed connection, freeing their sets. */
export function endSessions(rc: RelayCtx, conn: Conn): void {
  for (const subId of [...conn.negs.keys()]) endSession(rc, conn, subId)
}

/**
 * Sends a reader's answer to a session still open (not ended or replaced while the reader worked) and starts its idle
 * timer; an error ends the session with NEG-ERR.
 */
export async function answerSession(
  rc: RelayCtx,
  conn: Conn,
  subId: string,
  session: NegSession,
  answer: Promise<string>,
): Promise<void> {
  let hex: string
  try {
    hex = await answer
  } catch (err) {
    const r = refusalOf(rc, err)
    if (conn.negs.get(subId) === session) {
      endSession(rc, conn, subId)
      refuseNeg(conn, subId, r)
    }
    return
  }
  if (conn.negs.get(subId) !== session) return
  if (conn.closed) {
    endSession(rc, conn, subId)
    return
  }
  conn.send(negMsgFrame(subId, hex))
  const idle = rc.snapshot().cfg.limits.negentropy_idle_timeout
  clearTimeout(session.idle)
  session.idle = setTimeout(() => {
    if (conn.negs.get(subId) !== session) return
    endSession(rc, conn, subId)
    refuseNeg(conn, subId, reject('closed', `no message for ${idle} s; the session is closed`))
  }, idle * 1000)
  session.idle.unref()
}

function refusalOf(rc: RelayCtx, err: unknown): Rejection {
  const L = rc.snapshot().cfg.limits
  if (err instanceof TooManyRecords)
    return reject(
      'blocked',
      `more than ${L.max_negentropy_records} events match; narrow the filter (kinds, authors, since)`,
    )
  if (err instanceof QueryBudgetExceeded)
    return reject('blocked', `reading the set took longer than ${L.query_time_budget_ms} ms; narrow the filter`)
  if (err instanceof NegentropyError) return reject('invalid', `negentropy message: ${err.message}`)
  rc.log.error({ component: 'relay', err }, 'negentropy session error')
  return reject('error', 'internal error in this session; open it again')
}

/** The Responder's frame size limit: a frame of ours no larger than one we accept (hex doubles the bytes). */
export const frameSizeLimit = (maxMessageLength: number) => Math.max(4096, Math.floor(maxMessageLength / 2) - 256)
