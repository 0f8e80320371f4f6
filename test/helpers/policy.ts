// Builds the arguments policy unit tests pass to checks: a context and the deps a policy is made with.
import type { PolicyCtx, PolicyDeps } from '../../policies/types.js'

/** A policy context at a fixed moment, unauthenticated, with no zaps recorded, overridable per test. */
export function policyCtx(over: Partial<PolicyCtx> = {}): PolicyCtx {
  const now = over.now ?? 1_700_000_000
  return {
    now,
    nowMs: now * 1000,
    ip: '127.0.0.1',
    authed: new Set(),
    views: { largestZapMsats: () => 0n, knownJob: () => false, lightningAddresses: () => [], wallet: () => undefined },
    ...over,
  }
}

/** Deps for policies that need the relay key or a verifier; the relay pubkey is fixed. */
export const testDeps = (verify: PolicyDeps['verify'] = () => true): PolicyDeps => ({
  relayPubkey: 'f'.repeat(64),
  verify,
  // No LNURL server answers in policy unit tests: every address stays unresolved.
  lnurl: { resolve: () => Promise.resolve(undefined), peek: () => undefined },
  keysets: {
    peek: () => undefined,
    fetch: () => Promise.resolve(),
    peekInfo: () => undefined,
    fetchInfo: () => Promise.resolve(),
  },
  // Nothing set through the management API.
  managed: { pubkeyBanned: () => false, eventBanned: () => false, kindVerdict: () => undefined },
})
