import { reject } from '../nips/nip01.js'
import type { Policy } from './types.js'

/** AuthWrites refuses events unless their author has authenticated on this connection. */
export const authWrites: Policy = {
  name: 'auth-writes',
  nips: [42],
  antiSpam: false,
  door: true,
  enabled: cfg => cfg.policies.auth_writes.enabled,
  make() {
    return {
      event: (e, ctx) => {
        if (ctx.authed.has(e.pubkey)) return undefined
        return ctx.authed.size === 0
          ? reject('auth-required', 'this relay accepts events only from authenticated authors')
          : reject('restricted', 'authenticate as the event’s author to publish it')
      },
    }
  },
  info: () => ({ authRequired: true, restrictedWrites: true }),
}
