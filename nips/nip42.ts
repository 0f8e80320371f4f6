// NIP-42: checking a kind-22242 authentication event against the connection's challenge.
import { reject, tagValue, type NostrEvent, type Rejection } from './nip01.js'

export const ClientAuth = 22242

/** What an AUTH event is checked against. */
export type AuthExpect = {
  readonly challenge: string
  /** Accepted relay URLs, already normalised with normaliseRelayUrl. */
  readonly relayUrls: readonly string[]
  readonly now: number
  /** How far created_at may be from now, in seconds. */
  readonly window: number
}

/** Lowercased scheme and host, no trailing slash, ws and wss treated alike (TLS ends at a proxy). */
export function normaliseRelayUrl(url: string): string {
  try {
    const u = new URL(url.trim())
    const path = u.pathname.replace(/\/+$/, '')
    return `${u.host.toLowerCase()}${path}`
  } catch {
    return ''
  }
}

/** Checks kind, challenge, relay tag and created_at of a signature-checked AUTH event. */
export function checkAuthEvent(e: NostrEvent, x: AuthExpect): Rejection | undefined {
  if (e.kind !== ClientAuth) return reject('invalid', `AUTH event must be kind ${ClientAuth}`)
  const challenge = tagValue(e, 'challenge')
  if (challenge !== x.challenge)
    return reject('invalid', 'AUTH challenge does not match the one this connection was sent')
  const relay = tagValue(e, 'relay')
  if (relay === undefined || !x.relayUrls.includes(normaliseRelayUrl(relay)))
    return reject('invalid', `AUTH relay tag must name this relay (${x.relayUrls[0] ?? 'unknown'})`)
  if (Math.abs(e.created_at - x.now) > x.window)
    return reject('invalid', `AUTH created_at must be within ${x.window} seconds of now`)
  return undefined
}
