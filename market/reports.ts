// Reports (NIP-56 kind 1984) as the market counts them (DESIGN §7.3), pure. Any key may report anyone and
// the report is stored; it counts toward a flag only when the reporter was the customer of a delivered job
// with the reported provider, and then by the reporter's standing, so throwaway keys cannot flag (the seed
// flagged on any three keys).
import { reject, type NostrEvent, type Rejection } from '../nips/nip01.js'

export const REPORT = 1984

/** The pubkey a report is about (its first `p`), or undefined for other kinds and unaddressed reports. */
export function reportedKey(e: NostrEvent): string | undefined {
  if (e.kind !== REPORT) return undefined
  const p = e.tags.find(t => t[0] === 'p')?.[1]
  return p !== undefined && p !== e.pubkey ? p : undefined
}

/** The refusal for a flagged provider's results and feedback: its counting reporters' standing and the threshold. */
export const flaggedRefusal = (standing: number, threshold: number): Rejection =>
  reject(
    'blocked',
    `provider flagged (reports from customers of its delivered jobs with standing ${standing.toFixed(2)}, at least the ${threshold} that flags)`,
  )
