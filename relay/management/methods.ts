// The NIP-86 methods agora supports: each reads its parameters, records a change through the writer (the caller's
// `change`), and answers with NIP-86's result shape. Refused parameters answer with an error and change nothing.
import { isHex64 } from '../../nips/nip01.js'
import type { RpcReply } from '../../nips/nip86.js'
import { normaliseIp } from './ip.js'
import type { InfoKey, Managed, ManagementChange } from './state.js'

/** What a method may touch. */
export type MethodCtx = {
  readonly managed: Managed
  /** Commits the change through the writer, then applies it to the in-memory copy and its effects. */
  change(c: ManagementChange): Promise<void>
  readonly relayPubkey: string
}

type Method = (params: readonly unknown[], ctx: MethodCtx) => RpcReply | Promise<RpcReply>

const failed = (reason: string): RpcReply => ({ result: null, error: `invalid: ${reason}` })
const done = async (ctx: MethodCtx, c: ManagementChange): Promise<RpcReply> => {
  await ctx.change(c)
  return { result: true }
}

/** An optional reason (NIP-86's second parameter): a string, '' when absent, undefined when not a string. */
function reasonOf(params: readonly unknown[]): string | undefined {
  if (params[1] === undefined || params[1] === null) return ''
  return typeof params[1] === 'string' ? params[1] : undefined
}

/** The address in params[0], in the one spelling the block list keeps. */
const ipOf = (params: readonly unknown[]) => (typeof params[0] === 'string' ? normaliseIp(params[0]) : undefined)
const notAnIp = 'params[0] must be an IPv4 or IPv6 address'

/** A method taking ["<64-hex>", "<optional-reason>"]. */
const withHex =
  (what: string, run: (hex: string, reason: string, ctx: MethodCtx) => RpcReply | Promise<RpcReply>): Method =>
  (params, ctx) => {
    const hex = params[0]
    if (!isHex64(hex)) return failed(`params[0] must be the ${what} as 64 lowercase hex characters`)
    const reason = reasonOf(params)
    return reason === undefined ? failed('params[1], the reason, must be a string') : run(hex, reason, ctx)
  }

/** A method taking [<kind-number>] (a decimal string is read too). */
const withKind =
  (allowed: boolean): Method =>
  (params, ctx) => {
    const kind = typeof params[0] === 'string' && /^\d{1,5}$/.test(params[0]) ? Number(params[0]) : params[0]
    if (!Number.isInteger(kind) || (kind as number) < 0 || (kind as number) > 65535)
      return failed('params[0] must be a kind: an integer from 0 to 65535')
    return done(ctx, { op: 'kind', kind: kind as number, allowed })
  }

// A name or description longer than this is a mistake, and would ride along in every NIP-11 document.
const MAX_INFO = 4096

/** A method taking ["<new value>"] for a NIP-11 field; "" removes the override. */
const changeInfo =
  (key: InfoKey): Method =>
  (params, ctx) => {
    const value = params[0]
    if (typeof value !== 'string' || value.length > MAX_INFO)
      return failed(`params[0] must be a string of at most ${MAX_INFO} characters ("" restores the config's value)`)
    if (key === 'icon' && value !== '' && !/^https?:\/\/\S+$/.test(value))
      return failed('params[0] must be an http(s) URL of the icon')
    return done(ctx, { op: 'info', key, value: value.trim() })
  }

/** The entries of a list, with the reason when one was given (NIP-86: `reason` is optional). */
const listOf = <K extends string>(key: K, entries: Map<string, string>) =>
  [...entries].map(([v, reason]) => ({ [key]: v, ...(reason ? { reason } : {}) }) as Record<K | 'reason', string>)

const kindsWhere = (m: Managed, allowed: boolean) =>
  [...m.kinds].flatMap(([kind, a]) => (a === allowed ? [kind] : [])).sort((a, b) => a - b)

const unbanPubkey = withHex('pubkey', (pubkey, _r, ctx) => done(ctx, { op: 'unban-pubkey', pubkey }))
const unbanEvent = withHex('event id', (id, _r, ctx) => done(ctx, { op: 'unban-event', id }))

/** Every supported method by name. allowpubkey and allowevent lift a ban: agora keeps no API allow lists. */
export const methods: Readonly<Record<string, Method>> = {
  supportedmethods: () => ({ result: Object.keys(methods).filter(name => name !== 'supportedmethods') }),
  banpubkey: withHex('pubkey', (pubkey, reason, ctx) =>
    // Its outputs (the market's assertions and records) would vanish with it.
    pubkey === ctx.relayPubkey
      ? failed("the relay's own pubkey cannot be banned")
      : done(ctx, { op: 'ban-pubkey', pubkey, reason }),
  ),
  unbanpubkey: unbanPubkey,
  allowpubkey: unbanPubkey,
  listbannedpubkeys: (_p, ctx) => ({ result: listOf('pubkey', ctx.managed.pubkeys) }),
  banevent: withHex('event id', (id, reason, ctx) => done(ctx, { op: 'ban-event', id, reason })),
  unbanevent: unbanEvent,
  allowevent: unbanEvent,
  listbannedevents: (_p, ctx) => ({ result: listOf('id', ctx.managed.events) }),
  allowkind: withKind(true),
  disallowkind: withKind(false),
  listallowedkinds: (_p, ctx) => ({ result: kindsWhere(ctx.managed, true) }),
  listdisallowedkinds: (_p, ctx) => ({ result: kindsWhere(ctx.managed, false) }),
  blockip: (params, ctx) => {
    const ip = ipOf(params)
    if (ip === undefined) return failed(notAnIp)
    const reason = reasonOf(params)
    return reason === undefined
      ? failed('params[1], the reason, must be a string')
      : done(ctx, { op: 'block-ip', ip, reason })
  },
  unblockip: (params, ctx) => {
    const ip = ipOf(params)
    return ip === undefined ? failed(notAnIp) : done(ctx, { op: 'unblock-ip', ip })
  },
  listblockedips: (_p, ctx) => ({ result: listOf('ip', ctx.managed.ips) }),
  changerelayname: changeInfo('name'),
  changerelaydescription: changeInfo('description'),
  changerelayicon: changeInfo('icon'),
}
