// NIP-98: HTTP requests authorised by a signed kind-27235 event in the Authorization header.
// Pure: the signature is checked by the caller (with the relay's verifier), after these cheaper checks.
import { createHash } from 'node:crypto'
import { checkEventShape, checkId, reject, tagValue, type NostrEvent, type Rejection } from './nip01.js'
import { normaliseRelayUrl } from './nip42.js'

export const HttpAuth = 27235

/** What a token is checked against. */
export type HttpAuthExpect = {
  /** Accepted URLs, normalised with normaliseRelayUrl (NIP-86: the relay's own URL, in any of ws/wss/http/https). */
  readonly urls: readonly string[]
  /** The request's method, upper case. */
  readonly method: string
  /** sha256 hex of the request body; the `payload` tag must carry it (NIP-86 requires the tag). */
  readonly payload: string
  readonly now: number
  /** How far created_at may be from now, in seconds (NIP-98 suggests 60). */
  readonly window: number
}

/** sha256 of a request body, as lowercase hex (the `payload` tag's value). */
export const payloadHash = (body: string | Uint8Array): string => createHash('sha256').update(body).digest('hex')

/**
 * The event inside an `Authorization: Nostr <base64 event>` header, its shape and id checked; a rejection
 * saying what is wrong with the header otherwise.
 */
export function parseAuthHeader(header: string): NostrEvent | Rejection {
  const m = /^Nostr\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header.trim())
  if (!m)
    return reject(
      'auth-required',
      'send an Authorization header "Nostr <base64 of a signed kind-27235 event>" (NIP-98)',
    )
  let event: unknown
  try {
    event = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8'))
  } catch {
    return reject('invalid', 'the Authorization token is not base64 of a JSON event')
  }
  const bad = checkEventShape(event)
  if (bad) return reject('invalid', `the Authorization event is malformed: ${bad.reason}`)
  return checkId(event as NostrEvent) ?? (event as NostrEvent)
}

/** Checks kind, created_at, `u`, `method` and `payload` of an authorisation event (NIP-98 order). */
export function checkHttpAuth(e: NostrEvent, x: HttpAuthExpect): Rejection | undefined {
  if (e.kind !== HttpAuth) return reject('invalid', `the Authorization event must be kind ${HttpAuth}`)
  if (Math.abs(e.created_at - x.now) > x.window)
    return reject('invalid', `the Authorization event's created_at must be within ${x.window} seconds of now`)
  const u = tagValue(e, 'u')
  if (u === undefined || !x.urls.includes(normaliseRelayUrl(u)))
    return reject('invalid', `the Authorization event's u tag must be this relay's URL (${x.urls[0] ?? 'unknown'})`)
  if (tagValue(e, 'method')?.toUpperCase() !== x.method)
    return reject('invalid', `the Authorization event's method tag must be ${x.method}`)
  if (tagValue(e, 'payload') !== x.payload)
    return reject('invalid', "the Authorization event's payload tag must be the sha256 hex of the request body")
  return undefined
}
