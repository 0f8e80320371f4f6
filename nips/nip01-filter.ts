// NIP-01 filters: validation and compilation into Sets, and the matcher used by fan-out and tests.
import { isHex64, reject, type NostrEvent, type Rejection } from './nip01.js'

/** A filter after validation: lists became Sets, so matching is O(1) per field. */
export type CompiledFilter = {
  readonly ids?: ReadonlySet<string>
  readonly authors?: ReadonlySet<string>
  readonly kinds?: ReadonlySet<number>
  /** Tag conditions, `[letter, values]`; all must hold (AND), any value within one (OR). */
  readonly tags: ReadonlyArray<readonly [string, ReadonlySet<string>]>
  readonly since?: number
  readonly until?: number
  /** Requested limit, clamped by the caller's max; undefined means the default applies. */
  readonly limit?: number
  /** An empty list somewhere: the filter matches nothing (NIP-01). */
  readonly never: boolean
}

/** The bounds a filter must respect; passed in so this stays pure. */
export type FilterLimits = { readonly maxValues: number }

const TAG_KEY = /^#[a-zA-Z]$/
// NIP-01: these lists must hold exact 64-character lowercase hex.
const HEX_TAGS = new Set(['#e', '#p'])

function checkList(
  key: string,
  v: unknown,
  max: number,
  item: (x: unknown) => boolean,
  what: string,
): Rejection | undefined {
  if (!Array.isArray(v)) return reject('invalid', `filter "${key}" must be an array`)
  if (v.length > max) return reject('invalid', `filter "${key}" has ${v.length} values, limit ${max}`)
  for (const x of v) if (!item(x)) return reject('invalid', `filter "${key}" must hold ${what}`)
  return undefined
}

const isKind = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 65535
const isString = (x: unknown) => typeof x === 'string'
const isTimestamp = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0

/** Validates one REQ/COUNT filter. Returns the compiled filter or the reason it is refused. */
export function compileFilter(raw: unknown, limits: FilterLimits): CompiledFilter | Rejection {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return reject('invalid', 'filter must be a JSON object')
  const f = raw as Record<string, unknown>
  const tags: [string, Set<string>][] = []
  let never = false
  for (const [key, v] of Object.entries(f)) {
    let bad: Rejection | undefined
    if (key === 'ids' || key === 'authors')
      bad = checkList(key, v, limits.maxValues, isHex64, '64-character lowercase hex strings')
    else if (key === 'kinds') bad = checkList(key, v, limits.maxValues, isKind, 'integers between 0 and 65535')
    else if (key === 'since' || key === 'until' || key === 'limit')
      bad = isTimestamp(v) ? undefined : reject('invalid', `filter "${key}" must be a non-negative integer`)
    else if (TAG_KEY.test(key)) {
      bad = HEX_TAGS.has(key)
        ? checkList(key, v, limits.maxValues, isHex64, '64-character lowercase hex strings')
        : checkList(key, v, limits.maxValues, isString, 'strings')
      if (!bad) tags.push([key[1]!, new Set(v as string[])])
    } else if (key === 'search') bad = reject('invalid', 'search (NIP-50) is not supported by this relay')
    else bad = reject('invalid', `unknown filter key "${key}"`)
    if (bad) return bad
    if (Array.isArray(v) && v.length === 0) never = true
  }
  return {
    ...(f.ids ? { ids: new Set(f.ids as string[]) } : {}),
    ...(f.authors ? { authors: new Set(f.authors as string[]) } : {}),
    ...(f.kinds ? { kinds: new Set(f.kinds as number[]) } : {}),
    tags,
    ...(f.since !== undefined ? { since: f.since as number } : {}),
    ...(f.until !== undefined ? { until: f.until as number } : {}),
    ...(f.limit !== undefined ? { limit: f.limit as number } : {}),
    never: never || (f.since !== undefined && f.until !== undefined && (f.since as number) > (f.until as number)),
  }
}

/** Does the event match the filter? NIP-01: AND across fields, OR within a list, since/until inclusive. */
export function matchFilter(f: CompiledFilter, e: NostrEvent): boolean {
  if (f.never) return false
  if (f.ids && !f.ids.has(e.id)) return false
  if (f.authors && !f.authors.has(e.pubkey)) return false
  if (f.kinds && !f.kinds.has(e.kind)) return false
  if (f.since !== undefined && e.created_at < f.since) return false
  if (f.until !== undefined && e.created_at > f.until) return false
  for (const [name, values] of f.tags) {
    // NIP-01: only the first value of a tag is matched.
    if (!e.tags.some(t => t[0] === name && t.length > 1 && values.has(t[1]!))) return false
  }
  return true
}
