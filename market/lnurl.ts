// Lightning address -> zap-receipt signer (DESIGN §7.4): LUD-16 maps name@domain to an LUD-06 pay endpoint,
// whose answer declares (NIP-57) `allowsNostr` and the `nostrPubkey` that signs the recipient's receipts.
// The only network code here is httpLnurlResolver; the relay's synchronous checks read cachedResolver's peek.

import { isLoopbackHost, isPublicDomain } from './hosts.js'

/** Resolves a lightning address to its receipt-signing pubkey; undefined when the endpoint allows no zaps. */
export type LnurlResolver = (lud16: string) => Promise<string | undefined>

/** A resolver behind a per-address cache. */
export type CachedLnurlResolver = {
  /** Resolves through the cache: a fresh cached answer or failure (rethrown) costs no request; otherwise one
   *  request is shared by all concurrent callers for that address. */
  readonly resolve: LnurlResolver
  /** The cached signer key, synchronously; undefined when not resolved yet, in flight, expired, failed or
   *  keyless. */
  readonly peek: (lud16: string) => string | undefined
}

export type CacheOptions = {
  /** How long a resolved key is kept. */
  readonly ttlMs: number
  /** How long a failure or a keyless answer is kept, so a dead endpoint is not hammered. */
  readonly failTtlMs: number
  /** Clock in ms; Date.now by default. */
  readonly now?: () => number
  /** Addresses kept at most; the oldest entry goes first. 10 000 by default. */
  readonly maxEntries?: number
}

const HEX64 = /^[0-9a-f]{64}$/
// LUD-16: the name is limited to a-z0-9-_. and + (tags). `.` and `..` alone would be URL dot segments.
const NAME = /^(?!\.{1,2}$)[a-z0-9\-_.+]{1,64}$/
// Host and optional port; only a loopback host may carry a port (tests run servers on port 0).
const HOST_PORT = /^(.*?)(?::(\d{1,5}))?$/
const MAX_BODY = 64 * 1024

/**
 * The LUD-16 well-known URL for name@domain, or undefined when lud16 is not a lightning address. Loopback
 * hosts only with `allowLoopback` (tests, local development): otherwise any provider could make the relay
 * fetch its own local ports.
 */
export function parseLud16(lud16: string, allowLoopback = false): string | undefined {
  const at = lud16.indexOf('@')
  if (at < 0 || lud16.length > 320) return undefined
  const name = lud16.slice(0, at)
  const host = lud16.slice(at + 1).toLowerCase()
  if (!NAME.test(name)) return undefined
  const [, hostname, portText] = HOST_PORT.exec(host)!
  if (isLoopbackHost(hostname!)) {
    if (!allowLoopback) return undefined
    const port = portText === undefined ? 80 : Number(portText)
    if (port < 1 || port > 65535) return undefined
    // Loopback speaks plain http so tests and local dev need no TLS; everything else is https (LUD-16).
    return `http://${host}/.well-known/lnurlp/${name}`
  }
  return isPublicDomain(host) ? `https://${host}/.well-known/lnurlp/${name}` : undefined
}

/** The key an LUD-06 pay answer declares for signing receipts (NIP-57), or undefined when it allows no zaps. */
export function parseNostrPubkey(answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined
  const a = answer as Record<string, unknown>
  if (a.tag !== 'payRequest' || a.allowsNostr !== true) return undefined
  return typeof a.nostrPubkey === 'string' && HEX64.test(a.nostrPubkey) ? a.nostrPubkey : undefined
}

async function readCapped(res: Response, url: string): Promise<string> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.byteLength
    if (size > MAX_BODY) {
      await reader.cancel()
      throw new Error(`lnurl: ${url} answered more than ${MAX_BODY} bytes`)
    }
    chunks.push(r.value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function fetchAnswer(url: string, timeoutMs: number): Promise<unknown> {
  let text: string
  try {
    // No redirects: one could bounce the request to an address parseLud16 refuses.
    const res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'error',
    })
    if (!res.ok) {
      await res.body?.cancel()
      throw new Error(`lnurl: ${url} answered HTTP ${res.status}`)
    }
    text = await readCapped(res, url)
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError')
      throw new Error(`lnurl: ${url} did not answer within ${timeoutMs} ms`)
    if (err instanceof Error && err.message.startsWith('lnurl: ')) throw err
    throw new Error(`lnurl: ${url} unreachable: ${err instanceof Error ? err.message : String(err)}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`lnurl: ${url} did not answer JSON`)
  }
}

/** A resolver that asks the address's LNURL-pay endpoint over HTTP; rejects on a malformed address, a timeout,
 *  a non-2xx status, a non-JSON body or an LUD-06 `ERROR` answer. */
export function httpLnurlResolver(opts: {
  readonly timeoutMs: number
  readonly allowLoopback?: boolean
}): LnurlResolver {
  return async lud16 => {
    const url = parseLud16(lud16, opts.allowLoopback)
    if (!url) throw new Error(`lnurl: ${JSON.stringify(lud16.slice(0, 100))} is not a lightning address (LUD-16)`)
    const answer = await fetchAnswer(url, opts.timeoutMs)
    const a = answer as { status?: unknown; reason?: unknown } | null
    if (a?.status === 'ERROR') throw new Error(`lnurl: ${url} answered ERROR: ${String(a.reason).slice(0, 200)}`)
    return parseNostrPubkey(answer)
  }
}

type Entry = { readonly expires: number; readonly outcome: { key: string | undefined } | { error: unknown } }

/** Wraps resolver in a per-address cache (see CacheOptions); returns its resolve and synchronous peek. */
export function cachedResolver(resolver: LnurlResolver, o: CacheOptions): CachedLnurlResolver {
  const now = o.now ?? Date.now
  const maxEntries = o.maxEntries ?? 10_000
  const settled = new Map<string, Entry>()
  const pending = new Map<string, Promise<string | undefined>>()

  const fresh = (lud16: string) => {
    const entry = settled.get(lud16)
    if (entry && entry.expires > now()) return entry
    settled.delete(lud16)
    return undefined
  }
  const remember = (lud16: string, outcome: Entry['outcome'], ttlMs: number) => {
    pending.delete(lud16)
    settled.delete(lud16) // re-inserted last: Map order is the eviction order
    if (settled.size >= maxEntries) settled.delete(settled.keys().next().value!)
    settled.set(lud16, { expires: now() + ttlMs, outcome })
  }

  const resolve: LnurlResolver = lud16 => {
    const entry = fresh(lud16)
    if (entry)
      return 'error' in entry.outcome ? Promise.reject(entry.outcome.error) : Promise.resolve(entry.outcome.key)
    const inFlight = pending.get(lud16)
    if (inFlight) return inFlight
    // new Promise also turns a synchronous throw of the resolver into a cached failure.
    const request = new Promise<string | undefined>(r => r(resolver(lud16))).then(
      key => {
        remember(lud16, { key }, key === undefined ? o.failTtlMs : o.ttlMs)
        return key
      },
      (error: unknown) => {
        remember(lud16, { error }, o.failTtlMs)
        throw error
      },
    )
    pending.set(lud16, request)
    return request
  }

  const peek = (lud16: string) => {
    const outcome = fresh(lud16)?.outcome
    return outcome && 'key' in outcome ? outcome.key : undefined
  }
  return { resolve, peek }
}
