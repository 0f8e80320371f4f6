import { reject } from '../nips/nip01.js'
import { isProtected } from '../nips/nip70.js'
import type { Policy } from './types.js'

/** ProtectedEvents (NIP-70) accepts an event tagged ["-"] only from a connection authenticated as its author. */
export const protectedEvents: Policy = {
  name: 'protected-events',
  nips: [70],
  antiSpam: false,
  door: false,
  enabled: () => true,
  make() {
    return {
      event: (e, ctx) => {
        if (!isProtected(e) || ctx.authed.has(e.pubkey)) return undefined
        if (ctx.authed.size === 0)
          return reject('auth-required', 'this event is protected (NIP-70); authenticate as its author')
        return reject('restricted', 'this event is protected (NIP-70); only its author may publish it')
      },
    }
  },
}
