// The only place that sets the order of write policies: cheapest first (DESIGN §5).
import type { Config } from '../config/schema.js'
import { createdAtWindow } from './created-at-window.js'
import { eventSize } from './event-size.js'
import { protectedEvents } from './protected-events.js'
import type { Check, Policy } from './types.js'

export const writePolicies: readonly Policy[] = [eventSize, createdAtWindow, protectedEvents]

/** Builds the check chain for a config; `policies.open` leaves out the anti-spam ones. */
export function makeWriteChain(cfg: Config): Check {
  const checks = writePolicies.filter(p => !(cfg.policies.open && p.antiSpam)).map(p => p.make(cfg))
  return (event, ctx) => {
    for (const check of checks) {
      const r = check(event, ctx)
      if (r) return r
    }
    return undefined
  }
}
