// Shared first half of REQ and COUNT: subscription id and filters validated and compiled once.
import { isRejection, reject, type Rejection } from '../../nips/nip01.js'
import { compileFilter, type CompiledFilter } from '../../nips/nip01-filter.js'
import type { Config } from '../../config/schema.js'
import { isScrape } from '../store/planner.js'

/** A REQ/COUNT that passed validation. */
export type ReadRequest = { readonly subId: string; readonly filters: CompiledFilter[] }

/** The subscription id if the frame has a usable one (a string we can echo back in CLOSED). */
export function subIdOf(msg: readonly unknown[]): string | undefined {
  return typeof msg[1] === 'string' && msg[1].length > 0 && msg[1].length <= 256 ? msg[1] : undefined
}

/** Validates a REQ or COUNT frame against the limits; the rejection goes out as CLOSED. */
export function parseReadRequest(verb: string, msg: readonly unknown[], cfg: Config): ReadRequest | Rejection {
  const subId = msg[1] as string
  const L = cfg.limits
  if (subId.length > L.max_subid_length)
    return reject('invalid', `subscription id is longer than ${L.max_subid_length} characters`)
  if (msg.length < 3) return reject('invalid', `${verb} needs at least one filter`)
  if (msg.length - 2 > L.max_filters)
    return reject('invalid', `${verb} has ${msg.length - 2} filters, limit ${L.max_filters}`)
  const filters: CompiledFilter[] = []
  for (const raw of msg.slice(2)) {
    const f = compileFilter(raw, { maxValues: L.max_filter_values })
    if (isRejection(f)) return f
    if (!L.allow_scrape && isScrape(f))
      return reject('restricted', 'filters must name ids, authors, kinds or a tag on this relay')
    filters.push(f)
  }
  return { subId, filters }
}
