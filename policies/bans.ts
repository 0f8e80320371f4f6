import { reject } from '../nips/nip01.js'
import type { Policy } from './types.js'

/**
 * Bans refuses what the operator banned through the management API (NIP-86): events by a banned pubkey, a banned
 * event published again, and disallowed kinds, whatever other policies (or `policies.open`) say. Always active, so
 * bans recorded in the store hold even when the API is later switched off.
 */
export const bans: Policy = {
  name: 'bans',
  nips: [],
  antiSpam: false,
  door: false,
  enabled: () => true,
  make(_cfg, { managed }) {
    const pubkey = reject('blocked', 'this pubkey is banned from this relay')
    const event = reject('blocked', 'this event is banned from this relay')
    return {
      event: e => {
        if (managed.pubkeyBanned(e.pubkey)) return pubkey
        if (managed.eventBanned(e.id)) return event
        return managed.kindVerdict(e.kind) === false
          ? reject('blocked', `kind ${e.kind} is not accepted here`)
          : undefined
      },
    }
  },
}
