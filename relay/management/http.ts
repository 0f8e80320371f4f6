// The management API's requests (NIP-86) as the server hands them over: checks the content type and the NIP-98
// authorisation, lets only the configured admins through, and runs the method. relay/server.ts reads the bytes.
import { formatRejection, isRejection, reject, type NostrEvent, type Rejection } from '../../nips/nip01.js'
import { parseRpcRequest, RpcContentType, type RpcReply } from '../../nips/nip86.js'
import { checkHttpAuth, parseAuthHeader, payloadHash } from '../../nips/nip98.js'
import type { Log } from '../log.js'
import { methods, type MethodCtx } from './methods.js'
import type { ManagementChange } from './state.js'

/** An HTTP POST to the relay's URL, read in full. */
export type ManageRequest = {
  readonly contentType: string
  readonly authorization: string
  readonly host: string
  readonly body: Buffer
}

/** What the server sends back: an HTTP status line and a JSON body. */
export type ManageReply = { readonly status: string; readonly body: string }

export type ManagementApiOptions = MethodCtx & {
  /** The admins' pubkeys (the effective config's relay.admins); empty switches the API off. */
  admins(): readonly string[]
  /** The normalised URLs a token's `u` tag may name, for the request's Host header. */
  relayUrls(host: string): string[]
  /** BIP-340 check of an event whose id is already checked. */
  verify(e: NostrEvent): Promise<boolean>
  now(): number
  readonly log: Log
}

/** NIP-98 suggests a minute either way. */
const WINDOW = 60

const reply = (status: string, r: RpcReply): ManageReply => ({ status, body: JSON.stringify(r) })
const refusal = (status: string, r: Rejection) => reply(status, { result: null, error: formatRejection(r) })
const unauthorized = (r: Rejection) => refusal('401 Unauthorized', r)

/** Builds the handler of management requests. */
export function createManagementApi(o: ManagementApiOptions) {
  const log = o.log.child({ component: 'management' })
  // A token is good for one request: within its window a captured token could otherwise be replayed. Keyed by
  // signature, not id: the same call signed twice in one second has one id, but (with BIP-340's fresh
  // auxiliary randomness) two signatures.
  const used = new Map<string, number>()

  /** The admin who signed the request, or the reply refusing it. */
  async function authorise(req: ManageRequest, admins: readonly string[]): Promise<string | ManageReply> {
    if (!req.authorization) return unauthorized(reject('auth-required', 'send an Authorization header (NIP-98)'))
    const event = parseAuthHeader(req.authorization)
    if (isRejection(event)) return unauthorized(event)
    const now = o.now()
    const expect = { urls: o.relayUrls(req.host), method: 'POST', payload: payloadHash(req.body), now, window: WINDOW }
    const wrong = checkHttpAuth(event, expect)
    if (wrong) return unauthorized(wrong)
    if (!(await o.verify(event)))
      return unauthorized(reject('invalid', 'the Authorization event signature does not verify'))
    if (!admins.includes(event.pubkey))
      return refusal('403 Forbidden', reject('restricted', `${event.pubkey} is not an admin of this relay`))
    for (const [sig, until] of used) if (until < now) used.delete(sig)
    if (used.has(event.sig))
      return unauthorized(reject('invalid', 'this Authorization token was used already; sign a new one'))
    used.set(event.sig, event.created_at + WINDOW)
    return event.pubkey
  }

  /** Answers one request; never rejects. */
  return async function handle(req: ManageRequest): Promise<ManageReply> {
    const admins = o.admins()
    if (admins.length === 0)
      return refusal(
        '404 Not Found',
        reject('restricted', 'relay management (NIP-86) is off: the operator sets relay.admins to turn it on'),
      )
    if (req.contentType.split(';')[0]!.trim().toLowerCase() !== RpcContentType)
      return refusal(
        '415 Unsupported Media Type',
        reject('invalid', `send management requests with Content-Type: ${RpcContentType}`),
      )
    const admin = await authorise(req, admins)
    if (typeof admin !== 'string') return admin
    const call = parseRpcRequest(req.body.toString('utf8'))
    if (isRejection(call)) return refusal('400 Bad Request', call)
    if (!Object.hasOwn(methods, call.method))
      return reply('200 OK', {
        result: null,
        error: `invalid: unsupported method ${call.method}; see supportedmethods`,
      })
    // Every change is logged with who made it, once it is committed.
    const change = async (c: ManagementChange) => {
      await o.change(c)
      log.info({ admin, change: c }, 'relay management change')
    }
    try {
      return reply('200 OK', await methods[call.method]!(call.params, { ...o, change }))
    } catch (err) {
      log.error({ err, method: call.method }, 'management change failed')
      return reply('500 Internal Server Error', {
        result: null,
        error: 'error: could not record the change; try again',
      })
    }
  }
}
