// Provider announcements (DESIGN §7.1, §7.3), pure: NIP-89 handler info (31990) and heartbeats (30333).
// The spellings the seed's agents send are accepted (`lightning_address` for `lud16`).
import { tagValue, type NostrEvent } from '../nips/nip01.js'

export const HANDLER_INFO = 31990
export const HEARTBEAT = 30333
export const PROFILE = 0

/** A 31990: which job kinds a provider serves, and how to pay it. */
export type Handler = {
  readonly d: string
  readonly kinds: readonly number[]
  readonly name: string | undefined
  readonly lud16: string | undefined
  /** The skill descriptor, kept as the provider wrote it (JSON). */
  readonly skill: string | undefined
}

/** A 30333: the provider is up, with free slots, kinds and prices. */
export type Heartbeat = {
  readonly status: string | undefined
  readonly capacity: number | undefined
  readonly kinds: readonly number[]
  /** `kind:sats,...` as sent. */
  readonly price: string | undefined
}

const jobKinds = (e: NostrEvent) =>
  [...new Set(e.tags.filter(t => t[0] === 'k' && /^5\d{3}$/.test(t[1] ?? '')).map(t => Number(t[1])))].sort()
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)

/** The content of an event as a JSON object; {} when it is not one. */
function jsonObject(content: string): Record<string, unknown> {
  try {
    const v = JSON.parse(content) as unknown
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>
  } catch {
    // content that is not JSON names nothing
  }
  return {}
}

/** A kind 0 profile's lightning address, which zaps to its author are resolved through. */
export function readProfileLud16(e: NostrEvent): string | undefined {
  if (e.kind !== PROFILE || !e.content.includes('lud16')) return undefined
  return text(jsonObject(e.content).lud16)
}

export function readHandler(e: NostrEvent): Handler | undefined {
  if (e.kind !== HANDLER_INFO) return undefined
  // Content that is not JSON names nothing; the k tags still count.
  const meta = jsonObject(e.content)
  return {
    d: tagValue(e, 'd') ?? '',
    kinds: jobKinds(e),
    name: text(meta.name),
    lud16: text(meta.lud16) ?? text(meta.lightning_address),
    skill: meta.skill === undefined ? undefined : JSON.stringify(meta.skill),
  }
}

export function readHeartbeat(e: NostrEvent): Heartbeat | undefined {
  if (e.kind !== HEARTBEAT) return undefined
  const capacity = tagValue(e, 'capacity')
  return {
    status: tagValue(e, 'status'),
    capacity: capacity !== undefined && /^\d{1,9}$/.test(capacity) ? Number(capacity) : undefined,
    kinds: jobKinds(e),
    price: tagValue(e, 'price'),
  }
}
