// What a relay says about itself (NIP-11), as far as a client acts on it: its key, its proof-of-work rules per
// kind (agora's `pow_by_kind`, else the relay-wide `min_pow_difficulty`), and the market's windows.
import { ClientError } from './errors.js'

export type RelayInfo = {
  readonly url: string
  /** The relay's pubkey (`self`, else `pubkey`). */
  readonly pubkey: string | undefined
  readonly supportedNips: readonly number[]
  /** Bits of work an event of `kind` needs here. */
  powFor(kind: number): number
  /** The whole document. */
  readonly doc: Record<string, unknown>
}

type PowRule = { lo: number; hi: number; bits: number }

/** Reads "5000-5999", "7" or "*" into a range. */
function range(kinds: string): { lo: number; hi: number } | undefined {
  if (kinds === '*') return { lo: 0, hi: 65535 }
  const m = /^(\d+)(?:-(\d+))?$/.exec(kinds)
  if (!m) return undefined
  return { lo: Number(m[1]), hi: Number(m[2] ?? m[1]) }
}

/** The PoW rules in a NIP-11 document: `pow_by_kind` in order (first match wins), else one relay-wide rule. */
export function powRules(doc: Record<string, unknown>): PowRule[] {
  const listed = doc['pow_by_kind']
  if (Array.isArray(listed))
    return listed.flatMap(r => {
      const k = range(String((r as { kinds?: unknown }).kinds))
      const bits = Number((r as { bits?: unknown }).bits)
      return k && Number.isInteger(bits) ? [{ ...k, bits }] : []
    })
  const min = Number((doc['limitation'] as Record<string, unknown> | undefined)?.['min_pow_difficulty'] ?? 0)
  return min > 0 ? [{ lo: 0, hi: 65535, bits: min }] : []
}

/** What a NIP-11 document fetched from `url` says, as a RelayInfo. */
export function readRelayInfo(url: string, doc: Record<string, unknown>): RelayInfo {
  const rules = powRules(doc)
  const key = doc['self'] ?? doc['pubkey']
  return {
    url,
    pubkey: typeof key === 'string' ? key : undefined,
    supportedNips: Array.isArray(doc['supported_nips']) ? (doc['supported_nips'] as number[]) : [],
    powFor: kind => rules.find(r => kind >= r.lo && kind <= r.hi)?.bits ?? 0,
    doc,
  }
}

/** GETs `path` of a relay's HTTP(S) side (its WebSocket URL with http for ws); a ClientError naming `what` on failure. */
async function fetchFromRelay<T>(
  url: string,
  path: string,
  what: string,
  o: RequestInit & { read(r: Response): Promise<T> },
  timeoutMs: number,
) {
  const http = url.replace(/^ws/, 'http').replace(/\/$/, '') + path
  try {
    const res = await fetch(http, { ...o, signal: AbortSignal.timeout(timeoutMs) })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    return await o.read(res)
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    throw new ClientError(`cannot read ${url}'s ${what}: ${cause}`)
  }
}

/** The relay's NIP-11 document, fetched over HTTP(S) from its WebSocket URL. */
export async function fetchRelayInfo(url: string, timeoutMs = 10_000): Promise<RelayInfo> {
  const doc: unknown = await fetchFromRelay(
    url,
    '',
    'NIP-11 document',
    { headers: { accept: 'application/nostr+json' }, read: r => r.json() },
    timeoutMs,
  )
  // A document that is JSON but no object (null, a list) holds nothing a client can read.
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ClientError(`cannot read ${url}'s NIP-11 document: not a JSON object`)
  return readRelayInfo(url, doc as Record<string, unknown>)
}

/** The relay's skill document (/skill.md): how to use it and its market, generated from its config. */
export const fetchRelaySkill = (url: string, timeoutMs = 10_000): Promise<string> =>
  fetchFromRelay(url, '/skill.md', 'skill document (/skill.md)', { read: r => r.text() }, timeoutMs)

/** The bits a `pow:` refusal says are needed ("needs 10 bits"), or undefined. */
export function bitsFromRefusal(message: string): number | undefined {
  const m = /^pow:.*?needs (\d+) bits/.exec(message)
  return m ? Number(m[1]) : undefined
}
