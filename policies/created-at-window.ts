import { reject } from '../nips/nip01.js'
import type { Policy } from './types.js'

/** CreatedAtWindow refuses events dated too far in the past or the future (limits.created_at_*_limit). */
export const createdAtWindow: Policy = {
  name: 'created-at-window',
  nips: [],
  antiSpam: false,
  door: false,
  enabled: () => true,
  make(cfg) {
    const { created_at_lower_limit: back, created_at_upper_limit: ahead } = cfg.limits
    return {
      event: (e, ctx) => {
        if (e.created_at < ctx.now - back)
          return reject('invalid', `created_at is more than ${back} seconds in the past`)
        if (e.created_at > ctx.now + ahead)
          return reject('invalid', `created_at is more than ${ahead} seconds in the future`)
        return undefined
      },
    }
  },
}
