// Sends refusals: the reply that fits the message, plus an AUTH challenge with every auth-required. Every
// refusal passes here, so here it is counted and logged.
import type { Rejection } from '../../nips/nip01.js'
import type { Conn } from '../connection.js'
import type { EventFacts } from '../observe.js'
import { authFrame, closedFrame, negErrFrame, noticeFrame, refusedFrame } from './replies.js'

function challengeIfNeeded(conn: Conn, r: Rejection): void {
  // NIP-42 clients (e.g. rust-nostr) authenticate only when the challenge comes with the refusal.
  if (r.prefix === 'auth-required') conn.send(authFrame(conn.challenge))
}

/** OK false for an event (`ev`: a well-formed EVENT's, counted by its kind). */
export function refuseEvent(conn: Conn, id: string, r: Rejection, ev?: EventFacts): void {
  conn.send(refusedFrame(id, r))
  challengeIfNeeded(conn, r)
  conn.observer.refused('ok', r, conn.ip, ev)
}

/** CLOSED for a REQ or COUNT. */
export function refuseSub(conn: Conn, subId: string, r: Rejection): void {
  conn.send(closedFrame(subId, r))
  challengeIfNeeded(conn, r)
  conn.observer.refused('closed', r, conn.ip)
}

/** NEG-ERR for a NIP-77 session: it is closed on both sides. */
export function refuseNeg(conn: Conn, subId: string, r: Rejection): void {
  conn.send(negErrFrame(subId, r))
  challengeIfNeeded(conn, r)
  conn.observer.refused('neg-err', r, conn.ip)
}

/** NOTICE for a frame that names no event or subscription. */
export function notice(conn: Conn, r: Rejection): void {
  conn.send(noticeFrame(r))
  conn.observer.refused('notice', r, conn.ip)
}
