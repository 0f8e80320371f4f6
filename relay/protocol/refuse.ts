// Sends refusals: the reply that fits the message, plus an AUTH challenge with every auth-required.
import type { Rejection } from '../../nips/nip01.js'
import type { Conn } from '../connection.js'
import { authFrame, closedFrame, noticeFrame, refusedFrame } from './replies.js'

function challengeIfNeeded(conn: Conn, r: Rejection): void {
  // NIP-42 clients (e.g. rust-nostr) authenticate only when the challenge comes with the refusal.
  if (r.prefix === 'auth-required') conn.send(authFrame(conn.challenge))
}

/** OK false for an event. */
export function refuseEvent(conn: Conn, id: string, r: Rejection): void {
  conn.send(refusedFrame(id, r))
  challengeIfNeeded(conn, r)
}

/** CLOSED for a REQ or COUNT. */
export function refuseSub(conn: Conn, subId: string, r: Rejection): void {
  conn.send(closedFrame(subId, r))
  challengeIfNeeded(conn, r)
}

/** NOTICE for a frame that names no event or subscription. */
export function notice(conn: Conn, r: Rejection): void {
  conn.send(noticeFrame(r))
}
