// NIP-86: the relay management API, JSON-RPC-like over HTTP on the relay's own URL.
import { reject, type Rejection } from './nip01.js'

/** The Content-Type of a management request. */
export const RpcContentType = 'application/nostr+json+rpc'

/** A management call: a method name and its positional parameters. */
export type RpcRequest = { readonly method: string; readonly params: readonly unknown[] }

/** The body of a reply: `result` on success, `error` (with a null result) when the call failed. */
export type RpcReply = { readonly result: unknown; readonly error?: string }

/** The request in a body, or why it is not one. */
export function parseRpcRequest(body: string): RpcRequest | Rejection {
  let doc: unknown
  try {
    doc = JSON.parse(body)
  } catch {
    return reject('invalid', 'the body must be JSON: {"method": "...", "params": [...]}')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return reject('invalid', 'the body must be a JSON object: {"method": "...", "params": [...]}')
  const { method, params = [] } = doc as { method?: unknown; params?: unknown }
  if (typeof method !== 'string' || method === '') return reject('invalid', 'method must be a non-empty string')
  if (!Array.isArray(params)) return reject('invalid', 'params must be an array')
  return { method, params }
}
