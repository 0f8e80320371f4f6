// Calls a relay's management API (NIP-86) the way an operator's tool does: a POST to the relay's URL, signed with a
// NIP-98 token made by nostr-tools, with knobs to spoil each part of the token for the refusal tests.
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, type EventTemplate } from 'nostr-tools/pure'

export type ManageOptions = {
  /** The URL the token names (default: the relay's HTTP URL). */
  readonly u?: string
  /** The body the token's payload tag hashes (default: the body sent). */
  readonly signedBody?: unknown
  /** The token's method tag (default: post). */
  readonly method?: string
  /** Changes the signed template (its created_at, its kind...). */
  readonly edit?: (e: EventTemplate) => EventTemplate
  /** The whole Authorization header instead of a token; '' sends none. */
  readonly authorization?: string
  readonly contentType?: string
}

export type ManageResult = { status: number; result: unknown; error: string | undefined }

/** The relay's HTTP URL for its ws:// URL (HTTP and WebSocket share the port). */
export const httpUrl = (wsUrl: string) => wsUrl.replace(/^ws:/, 'http:')

/** Sends one management call signed by `sk`; resolves with the HTTP status and the reply's fields. */
export async function manage(
  wsUrl: string,
  sk: Uint8Array,
  method: string,
  params: unknown[] = [],
  o: ManageOptions = {},
): Promise<ManageResult> {
  const url = httpUrl(wsUrl)
  const request = { method, params }
  const authorization =
    o.authorization ??
    (await getToken(
      o.u ?? url,
      o.method ?? 'post',
      e => finalizeEvent(o.edit ? o.edit(e) : e, sk),
      true,
      o.signedBody ?? request,
    ))
  const headers: Record<string, string> = { 'Content-Type': o.contentType ?? 'application/nostr+json+rpc' }
  if (authorization) headers.Authorization = authorization
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(request) })
  const text = await res.text()
  const reply = JSON.parse(text) as { result?: unknown; error?: string }
  return { status: res.status, result: reply.result, error: reply.error }
}

/** Sends a call that must succeed, and returns its result; anything else throws with the reply. */
export async function call(wsUrl: string, sk: Uint8Array, method: string, params: unknown[] = []): Promise<unknown> {
  const r = await manage(wsUrl, sk, method, params)
  if (r.status !== 200 || r.error) throw new Error(`${method} failed: ${JSON.stringify(r)}`)
  return r.result
}
