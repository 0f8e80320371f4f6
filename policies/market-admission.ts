// Market admission (DESIGN §7.2): the market check that needs signatures, before the writer's fold.
// A result may carry its signed request in a `request` tag, so a job posted on another relay can be
// delivered here; the fold then trusts that request, so it must be a valid signed job request.
import type { Config } from '../config/schema.js'
import { checkEventShape, checkId, reject, type NostrEvent } from '../nips/nip01.js'
import { embeddedRequest, isJobResultKind, jobIdOf } from '../nips/nip90.js'
import type { Policy, PolicyDeps } from './types.js'

export const marketAdmission: Policy = {
  name: 'market',
  nips: [90],
  antiSpam: false,
  enabled: (cfg: Config) => cfg.market.enabled,
  make: (_cfg: Config, deps: PolicyDeps) => ({
    verified: (e, ctx) => {
      if (!isJobResultKind(e.kind)) return undefined
      const req = embeddedRequest(e)
      if (req === undefined) return undefined
      if (req === null) return reject('invalid', 'the request tag must hold the job request as a JSON event')
      // A known job is read from the store; the fold only compares the embedded id, so no signature work.
      if (typeof req.id === 'string' && req.id === jobIdOf(e) && ctx.views.knownJob(req.id)) return undefined
      const bad = checkEventShape(req)
      if (bad) return reject('invalid', `the embedded request: ${bad.reason}`)
      const request = req as NostrEvent
      if (request.kind !== e.kind - 1000)
        return reject('invalid', `the embedded request must be kind ${e.kind - 1000} for a kind ${e.kind} result`)
      if (checkId(request)) return reject('invalid', 'the embedded request: id does not match its content')
      if (!deps.verify(request)) return reject('invalid', 'the embedded request: signature does not verify')
      return undefined
    },
  }),
}
